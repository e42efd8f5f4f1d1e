"""Early warning: rules from the config, the alert lifecycle, silences and email digests.

Modules, one job each: :mod:`.rules` (declaration and validation), :mod:`.evaluate` (one function per rule
kind), :mod:`.lifecycle` (pending -> firing -> resolved, silences), :mod:`.digest` (what to notify, grouped per
recipient group), :mod:`.render` (the email: text, HTML, inline chart), :mod:`.transport` (outbox and SMTP,
retries, the attempt log) and :mod:`.scan` (one scan end to end).
"""

from __future__ import annotations

from .lifecycle import active_silences, add_silence, end_silence, fingerprint, list_events
from .rules import DEFAULT_RULES, Rule, load_recipients, load_rules, validate_settings
from .scan import ScanReport, run_scan
from .transport import OutboxTransport, SmtpTransport, deliver

__all__ = ["run_scan", "ScanReport", "Rule", "DEFAULT_RULES", "load_rules", "load_recipients", "add_silence",
           "end_silence", "list_events", "fingerprint", "deliver", "OutboxTransport", "SmtpTransport", "active_silences",
           "validate_settings"]
