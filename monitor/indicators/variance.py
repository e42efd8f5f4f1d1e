"""Domain estimates and linearised (Taylor) variances of diffusion indices (METHODOLOGY 7.3).

Everything here works on sums over *atoms* (district x division x size class) and months.  A domain
(the city, a district, a size group, a division, a key sector) is a union of atoms; so is a stratum
(a non-response cell, division x size class).  A *group* is the intersection of a stratum and a domain.

For one month and one question: respondent weight ``w_i`` (after the non-response adjustment), answer
``r_i`` in {-1, 0, 1}, answered indicator ``o_i``; for a domain ``D``: ``W = sum w o``,
``R = sum w r / W`` and the linearised variable ``z_i = w_i (r_i - R) / W`` (0 outside ``D``).  Over
the respondents of a group ``g`` (stratum ``h``, domain ``D``)::

    S1_g = W sum z = sum w r - R sum w o
    S2_g = W^2 sum z^2 = sum w^2 |r| - 2 R sum w^2 r + R^2 sum w^2 o
    Var(R) = sum_g c(n_h) (S2_g - S1_g^2 / n_h) / W^2,     c(n) = n/(n-1) for n >= 2, else 0

``n_h`` counts every respondent of the stratum, inside the domain or not (their ``z`` is 0): that is
the linearisation of a domain estimator.  Variances are on the ``R`` scale: the standard error of a
diffusion index ``50 + 50 R`` is ``50 sqrt(Var R)``.

Change from the previous month ``p`` to ``t``: the linearised variable is ``z_it - z_ip`` over the
firms responding in either month, so the group sums need the matched-firm cross sums
``sum w_t w_p (r_t - R_t)(r_p - R_p)``; ``n_h`` counts the firms of the stratum responding in either
month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from ._sample import _Sample

__all__ = ["Z95", "AtomSums", "CompositeRows", "CrossSums", "Domains", "category_sums", "composite_linearised",
           "cross_sums", "domain_estimates"]

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054

#: Item codes: answer + 1 (0 lower, 1 same, 2 higher), 3 not answered; r and o of each code.
_R = np.array([-1.0, 0.0, 1.0, 0.0])
_O = np.array([1.0, 1.0, 1.0, 0.0])
#: For a pair of codes (this month, previous month), state ``4 c_t + c_p``: r_t r_p, r_t o_p, o_t r_p, o_t o_p.
_PAIR = np.column_stack([np.outer(_R, _R).ravel(), np.outer(_R, _O).ravel(), np.outer(_O, _R).ravel(),
                         np.outer(_O, _O).ravel()])


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
    """Matched-firm sums between each month of ``cur`` and the month before (arrays ``A x Tc x K``).

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
    """The domains of one breakdown: maps between atoms, groups (stratum x domain) and domains.

    ``layers`` split the (atom, domain) memberships so that an atom has at most one domain per layer
    (one layer, except for key sectors, where a division can belong to two sectors): each layer is
    ``(domain of each atom or -1, group of each atom or -1)``.
    """

    kind: str
    codes: list[str]
    to_group: sparse.csr_matrix  # (G, A)
    to_domain: sparse.csr_matrix  # (D, G)
    atom_to_domain: sparse.csr_matrix  # (D, A)
    group_cell: np.ndarray  # (G,)
    group_domain: np.ndarray  # (G,)
    layers: list[tuple[np.ndarray, np.ndarray]]

    @classmethod
    def build(cls, kind: str, codes: list[str], pair_atom: np.ndarray, pair_domain: np.ndarray,
              cell_of_atom: np.ndarray) -> Domains:
        """Build the maps from the (atom, domain) membership pairs."""
        A, D = len(cell_of_atom), max(len(codes), 1)
        order = np.lexsort((pair_domain, pair_atom))
        pair_atom = np.asarray(pair_atom, dtype=np.int64)[order]
        pair_domain = np.asarray(pair_domain, dtype=np.int64)[order]
        group_key, pair_group = np.unique(cell_of_atom[pair_atom] * D + pair_domain, return_inverse=True)
        G = len(group_key)
        ones = np.ones(len(pair_atom))
        to_group = sparse.csr_matrix((ones, (pair_group, pair_atom)), shape=(G, A))
        to_domain = sparse.csr_matrix((np.ones(G), (group_key % D, np.arange(G))), shape=(len(codes), G))
        atom_to_domain = sparse.csr_matrix((ones, (pair_domain, pair_atom)), shape=(len(codes), A))
        first = np.searchsorted(pair_atom, pair_atom)  # pairs are sorted by atom
        rank = np.arange(len(pair_atom)) - first
        layers = []
        for j in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = rank == j
            dom, grp = np.full(A, -1), np.full(A, -1)
            dom[pair_atom[sel]], grp[pair_atom[sel]] = pair_domain[sel], pair_group[sel]
            layers.append((dom, grp))
        return cls(kind, codes, to_group, to_domain, atom_to_domain, group_key // D, group_key % D, layers)


def _agg(matrix: sparse.csr_matrix, values: np.ndarray) -> np.ndarray:
    """``matrix @ values`` over the first axis of a multi-dimensional array."""
    out = matrix @ values.reshape(values.shape[0], -1)
    return np.asarray(out).reshape((matrix.shape[0], *values.shape[1:]))


def _factor(n: np.ndarray) -> np.ndarray:
    """``n/(n-1)`` for strata of two or more respondents, 0 otherwise (a lone respondent adds nothing)."""
    n = np.asarray(n, dtype=float)
    return np.divide(n, n - 1.0, out=np.zeros_like(n), where=n >= 2)


def _stratified(n: np.ndarray, group_cell: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Per group: ``c(n_h) (S2 - S1^2 / n_h)``, 0 for strata of fewer than two respondents.

    ``n`` holds the stratum sizes (first axis: strata), ``group_cell`` the stratum of each group.
    """
    n = np.asarray(n, dtype=float)
    factor = _factor(n)[group_cell]
    inverse = np.divide(1.0, n, out=np.zeros_like(n), where=n > 0)[group_cell]
    return factor * (s2 - s1 * s1 * inverse)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b``, 0 where ``b`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.true_divide(a, b)
    out[~np.isfinite(out)] = 0.0
    return out


def category_sums(sample: _Sample) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per atom, month, item and answer (lower, same, higher): respondents and sums of ``x``, ``x^2``.

    Returns
    -------
    tuple of numpy.ndarray
        Three ``A x T x K x 3`` arrays: counts, sums of the size measure, sums of its square.
    """
    A, T, K = sample.shape
    key = sample.row_atom_month * 4
    x = sample.x[sample.row_firm]
    x2 = x * x
    out = np.zeros((3, K, A * T * 4))
    for k in range(K):  # a loop over the (13) items; each step is vectorised over every firm and month
        kk = key + sample.codes[k]
        out[0, k] = np.bincount(kk, minlength=A * T * 4)
        out[1, k] = np.bincount(kk, weights=x, minlength=A * T * 4)
        out[2, k] = np.bincount(kk, weights=x2, minlength=A * T * 4)
    arrays = np.ascontiguousarray(out.reshape(3, K, A, T, 4)[..., :3].transpose(0, 2, 3, 1, 4))
    return arrays[0], arrays[1], arrays[2]


def cross_sums(sample: _Sample, multiplier: np.ndarray, n_cell: np.ndarray, to_cell: sparse.csr_matrix,
               cur: np.ndarray) -> CrossSums:
    """Matched-firm sums between each month ``cur[j]`` and the calendar month before it.

    Parameters
    ----------
    sample
        The encoded sample.
    multiplier
        Respondent weight per unit of size measure (``A x T x K``): ``w_itk = x_i multiplier[atom_i, t, k]``.
    n_cell
        Respondents per stratum (``C x T x K``).
    to_cell
        Atom-to-stratum map (``C x A``).
    cur
        Month positions whose previous month is in the sample's months.
    """
    A, T, K = sample.shape
    has = np.flatnonzero(sample.row_prev >= 0)
    prev = sample.row_prev[has]
    am = sample.row_atom_month[has]
    key = am * 16
    x = sample.x[sample.row_firm[has]]
    x2 = x * x
    sums = np.zeros((K, A * T, 4))
    both = np.zeros((K, A * T))
    for k in range(K):  # a loop over the items; each step is vectorised over every firm and month
        now, before = sample.codes[k][has], sample.codes[k][prev]
        sums[k] = np.bincount(key + (now * 4 + before), weights=x2, minlength=A * T * 16).reshape(A * T, 16) @ _PAIR
        both[k] = np.bincount(am, weights=(now != 3) & (before != 3), minlength=A * T)
    sums = sums.reshape(K, A, T, 4)[:, :, cur].transpose(3, 1, 2, 0)  # (4, A, Tc, K)
    prv = sample.prev_month[cur]
    mm = multiplier[:, cur] * multiplier[:, prv]
    both_cell = _agg(to_cell, both.reshape(K, A, T)[:, :, cur].transpose(1, 2, 0))
    return CrossSums(rr=mm * sums[0], ro=mm * sums[1], orr=mm * sums[2], oo=mm * sums[3],
                     n_union=n_cell[:, cur] + n_cell[:, prv] - both_cell)


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
        Month positions ``(current, previous)``.
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
    var = _safe_div(np.maximum(_agg(dom.to_domain, _stratified(n_cell, dom.group_cell, s1, s2)), 0.0), W * W)
    var = np.where(W > 0, var, np.nan)

    cur, prv = pairs
    Wg = W[dom.group_domain]
    Wc, Wp = Wg[:, cur], Wg[:, prv]
    Rc, Rp = Rg[:, cur], Rg[:, prv]
    cg = {name: _agg(dom.to_group, getattr(cross, name)) for name in ("rr", "ro", "orr", "oo")}
    c = cg["rr"] - Rp * cg["ro"] - Rc * cg["orr"] + Rc * Rp * cg["oo"]
    sd = _safe_div(s1[:, cur], Wc) - _safe_div(s1[:, prv], Wp)
    sd2 = _safe_div(s2[:, cur], Wc * Wc) + _safe_div(s2[:, prv], Wp * Wp) - 2.0 * _safe_div(c, Wc * Wp)
    var_change = np.maximum(_agg(dom.to_domain, _stratified(cross.n_union, dom.group_cell, sd, sd2)), 0.0)
    both = (W[:, cur] > 0) & (W[:, prv] > 0)
    return {
        "W": W, "Wp": (Wa + Wr) / 2.0, "Wn": (Wa - Wr) / 2.0, "We": W - Wa, "R": R, "var": var,
        "n": _agg(dom.atom_to_domain, sums.n), "members": _agg(dom.atom_to_domain, members),
        "change": np.where(both, 50.0 * (R[:, cur] - R[:, prv]), np.nan),
        "var_change": np.where(both, var_change, np.nan),
    }


@dataclass(frozen=True)
class CompositeRows:
    """The responding firm-months' answers to a composite's questions, and stratum sizes.

    ``n_unit`` (``C x T``): firms of a stratum answering at least one of the questions; ``n_union``
    (``C x Tc``): the same in a month of ``cur`` or the month before.
    """

    items: list[tuple[int, float]]
    index: np.ndarray  # (H, N): (atom * T + month) * 4 + code of each row and item
    x: np.ndarray  # (N,)
    n_unit: np.ndarray
    n_union: np.ndarray

    @classmethod
    def build(cls, sample: _Sample, items: list[tuple[int, float]], to_cell: sparse.csr_matrix,
              cur: np.ndarray) -> CompositeRows:
        """Collect the rows of ``sample`` for the composite of ``items`` (``(item position, a_k)``)."""
        A, T, _ = sample.shape
        codes = sample.codes[[k for k, _ in items]]
        unit = (codes != 3).any(axis=0)
        n_unit = _agg(to_cell, np.bincount(sample.row_atom_month, weights=unit, minlength=A * T).reshape(A, T))
        has = sample.row_prev >= 0
        both = np.zeros(len(unit), dtype=bool)
        both[has] = unit[has] & unit[sample.row_prev[has]]
        n_both = _agg(to_cell, np.bincount(sample.row_atom_month, weights=both, minlength=A * T).reshape(A, T))
        prv = sample.prev_month[cur]
        n_union = n_unit[:, cur] + n_unit[:, prv] - n_both[:, cur]
        index = sample.row_atom_month[None, :] * 4 + codes
        return cls(items, index, sample.x[sample.row_firm], n_unit, n_union)


def composite_linearised(
    sample: _Sample,
    rows: CompositeRows,
    multiplier: np.ndarray,
    dom: Domains,
    W: np.ndarray,
    R: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """Variance of a composite ``sum_k a_k DI_k`` and of its change, from the per-firm linearised variable.

    ``zeta_i = sum_k a_k z_i^(k)`` (METHODOLOGY's ``zeta`` divided by 50) is built firm by firm, so the
    correlation between one firm's answers enters the variance.

    Parameters
    ----------
    sample
        The encoded sample.
    rows
        The composite's rows (:meth:`CompositeRows.build`).
    multiplier
        Respondent weight per unit of size measure (``A x T x K``).
    dom
        The breakdown's domains.
    W, R
        Domain weight totals and ratios (``D x T x K``) from :func:`domain_estimates`.
    pairs
        Month positions ``(current, previous)`` for the change.

    Returns
    -------
    dict
        ``var`` (``D x T``) and ``var_change`` (``D x Tc``), on the R scale (SE in points: 50 sqrt).
    """
    A, T, _ = sample.shape
    G = len(dom.group_cell)
    row_atom = sample.atom[sample.row_firm]
    has = sample.row_prev >= 0
    prev = sample.row_prev[has]
    s1 = np.zeros((G + 1) * T)
    s2 = np.zeros((G + 1) * T)
    sx = np.zeros((G + 1) * T)
    for domain, group in dom.layers:
        inside = (domain >= 0)[:, None]
        zeta = np.zeros(len(row_atom))
        for j, (k, a) in enumerate(rows.items):
            # z W / x = m (r - R o) for the atom's domain: a table over (atom, month, code), gathered per row.
            wk = np.where(inside, W[:, :, k][domain], 0.0)  # (A, T): the atom's domain total
            beta = a * _safe_div(multiplier[:, :, k], wk)
            gamma = beta * np.where(inside, R[:, :, k][domain], 0.0)
            table = np.stack([-beta - gamma, -gamma, beta - gamma, np.zeros_like(beta)], axis=2)
            zeta += table.ravel()[rows.index[j]]
        zeta *= rows.x
        key = np.where(group >= 0, group, G)[row_atom] * T + sample.row_month
        s1 += np.bincount(key, weights=zeta, minlength=(G + 1) * T)
        s2 += np.bincount(key, weights=zeta * zeta, minlength=(G + 1) * T)
        sx += np.bincount(key[has], weights=zeta[has] * zeta[prev], minlength=(G + 1) * T)
    s1, s2, sx = (v.reshape(G + 1, T)[:G] for v in (s1, s2, sx))
    var = _agg(dom.to_domain, _stratified(rows.n_unit, dom.group_cell, s1, s2))
    cur, prv = pairs
    sd = s1[:, cur] - s1[:, prv]
    sd2 = s2[:, cur] + s2[:, prv] - 2.0 * sx[:, cur]
    var_change = _agg(dom.to_domain, _stratified(rows.n_union, dom.group_cell, sd, sd2))
    return {"var": np.maximum(var, 0.0), "var_change": np.maximum(var_change, 0.0)}
