"""The service layer: every use case that changes something, as a plain function.

Each function takes the product (``complaintflow.wiring.Product``), the request's values and the
actor, runs in one unit of work (``with product.uow() as uow:``) and commits once: everything a use
case changes — rows, workflow state, task index, audit events, outbox — commits together or not at
all. Audit events are written only through ``engine.audit`` (directly or through ``Runner.audit``).

The web routers and the command line are adapters over these functions (parse → call → present);
neither commits, and the same use case reached from either is audited alike.

    complaints  submit a complaint (staff, public form, with an Idempotency-Key)
    imports     CSV bulk intake (one unit of work per row)
    tasks       claim, release, assign, complete, suspend, resume
    workflows   upload, deploy, upload-and-deploy, migrate instances
    accounts    create and change agencies and users
    sessions    sign-in attempts and limits, logout
    limits      per-address request limits (public intake, public lookup)
    deadlines   deadline rule versions, calendar years (with recomputation)
    notices     mark an in-app notice read
    demo        the demo agencies and users, and the reference workflows
"""
