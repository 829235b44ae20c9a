"""Is everything done: the settling rule of every listing (coverage, `listing_settled`), the done-tracker
and the ledger a killed crawl resumes from, and the items still in the pipelines."""
