"""Statutory deadlines: how long a step may take, counted on the Chinese working-day calendar.

    calendar     working days of mainland China (``WorkdayCalendar``, ``YearCalendar``), provisional
                 for years whose State Council notice is not known yet
    periods      a period (``7wd``, ``60cd``) and the deadline it gives from a start (``compute_due``),
                 moved by a suspension (``shift_for_suspension``)
    rules        named rules as versioned data, chosen by the complaint's receipt date (``DeadlinePolicy``)
    service      ``DeadlineService``: a policy plus a calendar, as the runner and the sweep use them
    config       the policy and calendar years stored in the database, edited and audited by admins
    suspension   stopping and restarting a task's clock
    ladder       the escalation ladder: reminder, overdue and escalation rungs and their sweep

Import from the module that defines a name; this package re-exports nothing, so that importing
one module (the runner imports ``service`` and ``ladder``) never loads the ones that need the runner.
"""
