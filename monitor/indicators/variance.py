"""Domain estimates and linearised (Taylor) variances of diffusion indices (METHODOLOGY 7.3).

Everything here works on sums over *atoms* (district x division x size class), which
:mod:`monitor.indicators.survey` computes once for the whole sample.  A domain (the city, a district,
a size group, a division, a key sector) is a union of atoms; a stratum (a non-response cell,
division x size class) is a union of atoms too.  A *group* is the intersection of one stratum and one
domain.

Notation, for one month and one question: respondent weight ``w_i`` (after the non-response
adjustment), answer ``r_i`` in {-1, 0, 1}, answered indicator ``o_i``; for a domain ``D``
``W = sum w o``, ``R = sum w r / W`` and ``z_i = w_i (r_i - R) / W`` (0 outside ``D``).  Over the
respondents of a group ``g`` (stratum ``h``, domain ``D``)::

    S1_g = sum z W = sum w r - R sum w o
    S2_g = sum (z W)^2 = sum w^2 |r| - 2 R sum w^2 r + R^2 sum w^2 o
    Var(R) = sum_g c(n_h) (S2_g - S1_g^2 / n_h) / W^2,   c(n) = n/(n-1) for n >= 2, else 0

``n_h`` counts every respondent of the stratum, inside the domain or not (their ``z`` is 0), which is
what the domain estimator's linearisation asks for.  Variances are on the ``R`` scale: the standard
error of a diffusion index ``50 + 50 R`` is ``50 sqrt(Var R)``.

Change between two months ``t`` and ``p`` (the previous one): the linearised variable of the
difference is ``z_it - z_ip`` over firms responding in either month, so its group sums need the
matched-firm cross sums ``sum w_t w_p (r_t - R_t)(r_p - R_p)``; ``n_h`` counts firms of the stratum
responding in either month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from .survey import _Sample

__all__ = ["Z95", "AtomSums", "CrossSums", "Domains", "composite_linearised", "cross_sums", "domain_estimates"]

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class AtomSums:
    """Sums over the respondents of each atom, month and item (arrays ``A x T x K``).

    ``n`` respondents; ``wo, wr, wa`` sums of ``w``, ``w r``, ``w |r|``; ``qo, qr, qa`` the same with ``w^2``.
    """

    n: np.ndarray
    wo: np.ndarray
    wr: np.ndarray
    wa: np.ndarray
    qo: np.ndarray
    qr: np.ndarray
    qa: np.ndarray


@dataclass(frozen=True)
class CrossSums:
    """Matched-firm sums between month pairs (arrays ``A x Tc x K``) and stratum sizes for the change.

    ``rr = sum w_t w_p r_t r_p``, ``ro = sum w_t w_p r_t o_p``, ``orr = sum w_t w_p o_t r_p``,
    ``oo = sum w_t w_p o_t o_p``; ``n_union`` (``C x Tc x K``): respondents of a stratum in either month.
    """

    rr: np.ndarray
    ro: np.ndarray
    orr: np.ndarray
    oo: np.ndarray
    n_union: np.ndarray


@dataclass(frozen=True)
class Domains:
    """The domains of one breakdown as maps between atoms, groups (stratum x domain) and domains.

    ``row_firm``/``row_domain``/``row_group`` list every (firm, domain) membership (a firm can be in
    several key sectors); ``row_firm`` is None when every firm is in exactly one domain, in firm order.
    """

    kind: str
    codes: list[str]
    to_group: sparse.csr_matrix  # (G, A)
    to_domain: sparse.csr_matrix  # (D, G)
    atom_to_domain: sparse.csr_matrix  # (D, A)
    group_cell: np.ndarray  # (G,)
    group_domain: np.ndarray  # (G,)
    row_firm: np.ndarray | None  # (L,)
    row_domain: np.ndarray  # (L,)
    row_group: np.ndarray  # (L,)

    @classmethod
    def build(cls, kind: str, codes: list[str], pair_atom: np.ndarray, pair_domain: np.ndarray,
              cell_of_atom: np.ndarray, firm_atom: np.ndarray) -> Domains:
        """Build the maps from the (atom, domain) membership pairs."""
        A, D = len(cell_of_atom), len(codes)
        pair_atom = np.asarray(pair_atom, dtype=np.int64)
        pair_domain = np.asarray(pair_domain, dtype=np.int64)
        key = cell_of_atom[pair_atom] * max(D, 1) + pair_domain
        group_key, pair_group = np.unique(key, return_inverse=True)
        G = len(group_key)
        group_cell, group_domain = group_key // max(D, 1), group_key % max(D, 1)
        to_group = sparse.csr_matrix((np.ones(len(pair_atom)), (pair_group, pair_atom)), shape=(G, A))
        to_domain = sparse.csr_matrix((np.ones(G), (group_domain, np.arange(G))), shape=(D, G))
        atom_to_domain = sparse.csr_matrix((np.ones(len(pair_atom)), (pair_domain, pair_atom)), shape=(D, A))
        # (firm, domain) rows: the firms of each pair's atom (firms are sorted by atom).
        start = np.searchsorted(firm_atom, np.arange(A))
        count = np.bincount(firm_atom, minlength=A)[pair_atom]
        L = int(count.sum())
        first_row = np.cumsum(count) - count
        row_firm = np.repeat(start[pair_atom] - first_row, count) + np.arange(L)
        row_domain = np.repeat(pair_domain, count)
        row_group = np.repeat(pair_group, count)
        identity = L == len(firm_atom) and np.array_equal(row_firm, np.arange(L))
        return cls(kind, codes, to_group, to_domain, atom_to_domain, group_cell, group_domain,
                   None if identity else row_firm, row_domain, row_group)


def _agg(matrix: sparse.csr_matrix, values: np.ndarray) -> np.ndarray:
    """``matrix @ values`` over the first axis of a multi-dimensional array."""
    out = matrix @ values.reshape(values.shape[0], -1)
    return np.asarray(out).reshape((matrix.shape[0], *values.shape[1:]))


def _factor(n: np.ndarray) -> np.ndarray:
    """``n/(n-1)`` for strata of two or more respondents, 0 otherwise (a lone respondent adds nothing)."""
    n = np.asarray(n, dtype=float)
    return np.divide(n, n - 1.0, out=np.zeros_like(n), where=n >= 2)


def _stratified(factor_n: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Per group: ``c(n) (S2 - S1^2 / n)``, 0 for empty strata."""
    n = factor_n
    dev = s2 - np.divide(s1 * s1, n, out=np.zeros_like(s1), where=n > 0)
    return _factor(n) * dev


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)


def domain_estimates(
    dom: Domains,
    sums: AtomSums,
    n_cell: np.ndarray,
    cross: CrossSums,
    pairs: tuple[np.ndarray, np.ndarray],
    members: np.ndarray,
) -> dict[str, np.ndarray]:
    """Weighted shares, ratio, variance and change of every domain, month and item.

    Parameters
    ----------
    dom
        The breakdown's domains.
    sums
        Atom sums (``A x T x K``).
    n_cell
        Respondents per stratum (``C x T x K``).
    cross
        Matched-firm sums for the month pairs.
    pairs
        Month positions ``(current, previous)`` of the month pairs.
    members
        Panel members per atom and month (``A x T``).

    Returns
    -------
    dict
        ``W``, ``Wp``, ``We``, ``Wn``, ``R``, ``var``, ``n`` (``D x T x K``), ``members`` (``D x T``),
        ``change`` (of the diffusion index, in points) and ``var_change`` (``D x Tc x K``, R scale).
    """
    g = {name: _agg(dom.to_group, getattr(sums, name)) for name in ("wo", "wr", "wa", "qo", "qr", "qa")}
    W = _agg(dom.to_domain, g["wo"])
    Wr = _agg(dom.to_domain, g["wr"])
    Wa = _agg(dom.to_domain, g["wa"])
    R = _safe_div(Wr, W)
    Rg = R[dom.group_domain]
    s1 = g["wr"] - Rg * g["wo"]
    s2 = g["qa"] - 2.0 * Rg * g["qr"] + Rg * Rg * g["qo"]
    nh = n_cell[dom.group_cell]
    var = _safe_div(np.maximum(_agg(dom.to_domain, _stratified(nh, s1, s2)), 0.0), W * W)
    var = np.where(W > 0, var, np.nan)

    cur, prv = pairs
    Wg = W[dom.group_domain]
    Wc, Wp = Wg[:, cur], Wg[:, prv]
    Rc, Rp = Rg[:, cur], Rg[:, prv]
    cg = {name: _agg(dom.to_group, getattr(cross, name)) for name in ("rr", "ro", "orr", "oo")}
    c = cg["rr"] - Rp * cg["ro"] - Rc * cg["orr"] + Rc * Rp * cg["oo"]
    sd = _safe_div(s1[:, cur], Wc) - _safe_div(s1[:, prv], Wp)
    sd2 = _safe_div(s2[:, cur], Wc * Wc) + _safe_div(s2[:, prv], Wp * Wp) - 2.0 * _safe_div(c, Wc * Wp)
    var_change = np.maximum(_agg(dom.to_domain, _stratified(cross.n_union[dom.group_cell], sd, sd2)), 0.0)
    both = (W[:, cur] > 0) & (W[:, prv] > 0)
    var_change = np.where(both, var_change, np.nan)
    change = np.where(both, 50.0 * (R[:, cur] - R[:, prv]), np.nan)
    return {
        "W": W, "Wp": (Wa + Wr) / 2.0, "Wn": (Wa - Wr) / 2.0, "We": W - Wa, "R": R, "var": var,
        "n": _agg(dom.atom_to_domain, sums.n), "members": _agg(dom.atom_to_domain, members),
        "change": change, "var_change": var_change,
    }


def cross_sums(sample: _Sample, multiplier: np.ndarray, cur: np.ndarray, prv: np.ndarray,
               n_cell: np.ndarray) -> CrossSums:
    """Matched-firm sums between each month ``cur[j]`` and its previous month ``prv[j]``.

    Parameters
    ----------
    sample
        The encoded sample.
    multiplier
        Respondent weight per unit of size measure (``A x T x K``): ``w_itk = x_i multiplier[atom_i, t, k]``.
    cur, prv
        Month positions of the pairs.
    n_cell
        Respondents per stratum (``C x T x K``).
    """
    x2 = sample.x * sample.x
    r_c, r_p = sample.answer[:, cur], sample.answer[:, prv]
    o_c, o_p = sample.answered[:, cur], sample.answered[:, prv]
    products = np.stack([r_c * r_p, r_c * o_p, o_c * r_p, (o_c & o_p).view(np.int8)], axis=1)
    weighted, counted = sample.by_atom(products, [x2, None])
    mm = multiplier[:, cur] * multiplier[:, prv]
    cell = sample.atoms["cell"].to_numpy()
    C = n_cell.shape[0]
    to_cell = sparse.csr_matrix((np.ones(len(cell)), (cell, np.arange(len(cell)))), shape=(C, len(cell)))
    both = _agg(to_cell, counted[:, 3])
    return CrossSums(rr=mm * weighted[:, 0], ro=mm * weighted[:, 1], orr=mm * weighted[:, 2],
                     oo=mm * weighted[:, 3], n_union=n_cell[:, cur] + n_cell[:, prv] - both)


def composite_linearised(
    sample: _Sample,
    multiplier: np.ndarray,
    dom: Domains,
    W: np.ndarray,
    R: np.ndarray,
    items: list[tuple[int, float]],
    pairs: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """Variance of a linear composite ``sum_k a_k DI_k`` from the per-firm linearised variable.

    ``zeta_i = sum_k a_k z_i^(k)`` (the METHODOLOGY's ``zeta`` divided by 50) is built firm by firm, so the
    correlation of one firm's answers across questions enters the variance; ``n_h`` counts the firms of
    the stratum answering at least one of the composite's questions.

    Parameters
    ----------
    sample
        The encoded sample.
    multiplier
        Respondent weight per unit of size measure (``A x T x K``).
    dom
        The breakdown's domains.
    W, R
        Domain weight totals and ratios (``D x T x K``) from :func:`domain_estimates`.
    items
        ``(item position, a_k)`` of the composite.
    pairs
        Month positions ``(current, previous)`` for the change.

    Returns
    -------
    dict
        ``var`` (``D x T``) and ``var_change`` (``D x Tc``), on the R scale (SE in points = 50 sqrt).
    """
    F, T = sample.member.shape
    rows = dom.row_firm
    L = F if rows is None else len(rows)
    zeta = np.zeros((L, T))
    for k, a in items:
        coef = a * _safe_div(np.ones_like(W[:, :, k]), W[:, :, k])  # (D, T)
        u = sample.x[:, None] * multiplier[sample.atom, :, k]
        wr = u * sample.answer[:, :, k]
        wo = u * sample.answered[:, :, k]
        if rows is not None:
            wr, wo = wr[rows], wo[rows]
        zeta += coef[dom.row_domain] * (wr - R[:, :, k][dom.row_domain] * wo)
    to_group = sparse.csr_matrix((np.ones(L), (dom.row_group, np.arange(L))), shape=(len(dom.group_cell), L))
    cell = sample.atoms["cell"].to_numpy()[sample.atom]
    C = int(sample.atoms["cell"].max()) + 1
    firm_to_cell = sparse.csr_matrix((np.ones(F), (cell, np.arange(F))), shape=(C, F))
    unit = sample.answered[:, :, [k for k, _ in items]].any(axis=2)
    n_unit = np.asarray(firm_to_cell @ unit.view(np.int8))  # (C, T)

    var = _agg(dom.to_domain, _stratified(n_unit[dom.group_cell], to_group @ zeta, to_group @ (zeta * zeta)))
    cur, prv = pairs
    delta = zeta[:, cur] - zeta[:, prv]
    n_union = np.asarray(firm_to_cell @ (unit[:, cur] | unit[:, prv]).view(np.int8))
    var_change = _agg(dom.to_domain,
                      _stratified(n_union[dom.group_cell], to_group @ delta, to_group @ (delta * delta)))
    return {"var": np.maximum(var, 0.0), "var_change": np.maximum(var_change, 0.0)}
