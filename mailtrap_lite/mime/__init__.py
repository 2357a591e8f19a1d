"""Reading raw message bytes: headers, MIME body, HTML text, links and codes. Pure, no I/O."""
