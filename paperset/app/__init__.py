"""The application's orchestration: one `paperset run` (crawl, health gate, package, verify), the crawl
process, a distributed run's coordinator and workers, the plan, the sweep, the outcome and the exit-code
table. The only part, with the command line above it, that imports the crawler and the packager together."""
