"""An OAI-PMH 2.0 data provider (the protocol only; archive.web.oai serves it at /oai).

arguments: a request's arguments checked as the protocol says; tokens: signed, stateless resumption
tokens; repository: the six verbs over the harvest log (archive.services.harvest_log). docs/interchange.md
("OAI-PMH") says what is served.
"""

from archive.interchange.oai.repository import FORMATS, OAI_NS, Repository, respond
from archive.interchange.oai.tokens import signing_key

__all__ = ["FORMATS", "OAI_NS", "Repository", "respond", "signing_key"]
