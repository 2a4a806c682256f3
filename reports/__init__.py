"""The managers' and ops' reports: the manager's week, and the carrier telemetry for ops.

Every number is aggregated by the database, in the same few queries whatever the volume. The
week counts distinct business objects (orders, accounts, bulk batches) from their own tables,
and lookups from the audit rollup. The telemetry sums the daily rollup (portal.audit.rollup)
plus the records that arrived since it last ran, and reads latency percentiles and failure
reasons through covering indexes on `created_at`.

- week: the week's numbers per rep and for the team, this week against the week before.
- funnel: the orders placed in a week, how many the carrier accepted, how many completed.
- needs_action: failed and rejected orders, writes waiting on the carrier, stale drafts.
- week_page: the week put together for the page, its CSV and the digest; whose week it is.
- digest: the weekly digest email's content.
- scope, queries, report: the telemetry's records, aggregate queries and page.
- charts: the SVG charts laid out as plain numbers for the templates to draw.
- exports: every CSV: the telemetry's records and each table of the week.
"""
