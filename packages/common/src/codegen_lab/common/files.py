"""Writing a user's files without losing data: atomic replacement, and a journal of changes with backups.

`replace_atomically` writes one file so that it is either its old content or its new one, never a part of
either. `ChangeSet` does that for a group of files, keeping each file's previous content and a journal entry in
the state folder, so that `undo_last` (the `codegen-lab undo` command) takes the last change back. Every writer of
a user's file in Codegen Lab goes through it.
"""

from codegen_lab.common._atomic import replace_atomically
from codegen_lab.common._journal import (
    Change,
    ChangeSet,
    FileChange,
    UndoReport,
    default_state_dir,
    recent_changes,
    undo_last,
)
from codegen_lab.common.exports import report_public_home

__all__ = [
    "Change",
    "ChangeSet",
    "FileChange",
    "UndoReport",
    "default_state_dir",
    "recent_changes",
    "replace_atomically",
    "undo_last",
]

for _name in __all__:
    report_public_home(globals()[_name], __name__)
