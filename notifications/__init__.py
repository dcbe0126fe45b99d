"""Notices to complainants and staff: templates, channels and a transactional outbox.

- ``outbox``      — ``notify_complainant`` / ``notify_users`` / ``notify_agency_role``: queue inside the
                    caller's transaction (in-app notices are delivered right there);
- ``dispatcher``  — ``dispatch_pending``: claim due rows under a lease, send, retry with backoff, dead-letter;
- ``channels``    — SMTP e-mail, signed webhook (SMS gateway), a capturing test double, the registry;
- ``rendering``   — zh-CN Jinja2 templates, strict, autoescaped HTML, admin overrides;
- ``digest``, ``dead_letters``, ``inbox``, ``preferences`` — one job each.
"""
