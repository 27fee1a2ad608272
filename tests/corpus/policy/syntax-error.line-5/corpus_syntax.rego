package corpus.syntax

metadata := {"id": "corpus_syntax", "title": "t", "severity": "low", "resource_type": "domain", "remediation": "r"}
results contains r if {
