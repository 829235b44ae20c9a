"""The web archive of a crawl (docs/archive.md): every response recorded with its request as gzip WARC
(`record`, `recorder`), the time each was received put on the entries it gave (`received`), and a crawl
answered from archives instead of the network (`replay`), wired in by the add-on (`addon`)."""
