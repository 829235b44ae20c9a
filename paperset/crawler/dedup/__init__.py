"""MinHash near-duplicate detection: pure functions over text and arrays, and index backends."""
