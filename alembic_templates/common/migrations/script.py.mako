"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

Before it ships (`migsafe check` ran on this file when it was written):
- an index on a table that has rows: postgresql_concurrently=True in an autocommit_block();
- a NOT NULL column on a table that has rows: a server_default, or nullable first, backfill,
  then SET NOT NULL;
- a rename or a drop: the code still running uses the old name: expand, deploy, contract;
- downgrade() undoes upgrade() exactly; if it cannot, it raises and says why.
migsafe.runtime writes the safe forms: create_index_concurrently, add_foreign_key_safely,
set_not_null_safely, batched_update (docs/runbook.md).
"""

from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else 'raise NotImplementedError("write the downgrade, or say why this revision cannot be undone")'}
