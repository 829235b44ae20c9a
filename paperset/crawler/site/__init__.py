"""What the site is: the listing kinds (one registry), listings and their URLs, page extraction (pure
functions from a response to items: no engine needed to test them), the item, and the fixture cases that
`scrapy check` runs as the spider's contract."""
