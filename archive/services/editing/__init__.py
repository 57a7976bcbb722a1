"""Writing the catalogue: items and tags, bulk edits, collections, people, credits and uploads.

Every function validates plain values and raises Invalid naming the field (InvalidFields when
several are refused at once); it flushes but never commits. Edits return the changes as
{field: (old, new)}; the audit trail records them from the flush on its own. Functions that
take a viewer load only what the access policy lets that viewer see, and treat the rest as absent.
"""

from archive.services.editing.fields import (KEEP, NAME_MAX, TITLE_MAX, Changes, InvalidFields, Keep,
                                             field_errors)
from archive.services.editing.collections import (create_collection, edit_collection,
                                                  get_known_collection, is_known_collection,
                                                  known_collections, upsert_collection)
from archive.services.editing.items import (BULK_MAX, ITEM_FIELDS, BulkResult, bulk_edit, edit_item,
                                            get_or_create_tag, set_item_tags, split_tags, update_item)
from archive.services.editing.people import (PeoplePage, add_credit, create_person, credit_collection, credit_roles,
                                             credit_item, delete_person, edit_person, find_people,
                                             get_or_create_person, get_person, move_credit, person_credits,
                                             person_names, remove_credit)
from archive.services.editing.publication import Exposure, PublicationPreview, publication_preview
from archive.services.editing.uploads import UploadChoices, ingest_uploads, safe_filename, upload_choices

__all__ = [
    "BULK_MAX", "ITEM_FIELDS", "KEEP", "NAME_MAX", "TITLE_MAX", "BulkResult", "Changes", "InvalidFields", "Keep",
    "Exposure", "PeoplePage", "PublicationPreview", "UploadChoices", "add_credit", "bulk_edit", "create_collection",
    "create_person", "credit_collection", "credit_roles", "credit_item", "delete_person", "edit_collection", "edit_item",
    "edit_person", "field_errors", "find_people", "get_known_collection", "get_or_create_person",
    "get_or_create_tag", "get_person", "ingest_uploads", "is_known_collection", "known_collections",
    "move_credit", "person_credits", "person_names", "publication_preview", "remove_credit", "safe_filename",
    "set_item_tags", "split_tags", "update_item", "upload_choices", "upsert_collection",
]
