"""The managers' and ops' reports on the audit trail: queries, charts, the page and its CSV.

Every number is aggregated by the database. Counts (volume per day, success, the funnel, the
per-rep table) sum the daily rollup (portal.audit.rollup) plus the records that arrived since it
last ran, in one statement. Latency percentiles and failure reasons read the records through
covering indexes on `created_at`. Each query returns one row per day, API, rep or reason, never
one per record: the page makes the same few queries whatever the volume.

- scope: which records a report covers (dates, people, filters), as querysets and conditions.
- queries: the aggregate queries (daily counts, latency percentiles, failures, funnel, reps).
- charts: the SVG charts laid out as plain numbers for the templates to draw.
- report: the report page's numbers and charts, put together.
- exports: the CSV of the records the filters select.
"""
