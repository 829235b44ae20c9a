"""Values to fields: text, ids, URLs and dates in canonical form, the conversions that lose nothing, the
paper keys, and the rejects file (every dropped entry kept with its reason). No Scrapy engine needed."""
