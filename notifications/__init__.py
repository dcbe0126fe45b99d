"""Notices to complainants and staff: templates, channels and a transactional outbox.

This package renders and delivers what it is given; it imports nothing of ``agencies``
(``agencies.notices`` finds the recipients and calls it).

- ``outbox``      — ``notify_complainant`` / ``notify_users``: queue, for recipients the caller resolved,
                    inside the caller's transaction (in-app notices are delivered right there);
- ``config``      — ``OutboxConfig``, the deployment's settings, built by the wiring and passed in;
- ``dispatcher``  — ``dispatch_pending``: claim due rows under a lease, send, retry with backoff, dead-letter;
- ``channels``    — SMTP e-mail, signed webhook (SMS gateway), a capturing test double, the registry;
- ``rendering``   — zh-CN Jinja2 templates, strict, autoescaped HTML, admin overrides;
- ``digest``, ``dead_letters``, ``in_app``, ``preferences`` — one job each.
"""
