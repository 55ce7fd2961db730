"""Reading: bytes or a URL → ``Article``. ``formats`` sniffs and unpacks the format (HTML through
trafilatura, PDF through pypdf, gzip), ``text`` decodes and cleans text and finds its parts
(title, dek, byline, body, boilerplate) with offsets, ``fetch`` gets URLs within bounds,
``language`` detects the article's language."""
