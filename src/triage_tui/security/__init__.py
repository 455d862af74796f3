"""Technical safeguards (HIPAA 45 CFR 164.312) that are not the cache's or the UI's job.

Textual-free: environment hygiene, PHI-safe logging and crash reports, sign-in secrets,
the auto-lock policy, audit export and upload, ``doctor`` diagnostics. The app-side pieces
(lock screen, key) live in ``screens/lock.py``.
"""
