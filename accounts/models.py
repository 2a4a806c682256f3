# Customer records arrive with account creation; lookups are kept as audit records.
