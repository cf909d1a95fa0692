"""The schema a history builds (migsafe.catalog): what PostgreSQL does with each statement."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from pglast import parse_sql
from pglast.stream import RawStream

from migsafe.capture import OfflineCapturer
from migsafe.capture.catalog_queries import catalog_answer
from migsafe.catalog import Catalog, default_constraint_name, sql_text
from migsafe.project import read_script
from migsafe.sql import split_statements

SHOP = """
CREATE TABLE devices (id int PRIMARY KEY, code text UNIQUE);
CREATE TABLE attributes (id int PRIMARY KEY,
  device_id int CONSTRAINT fk_device REFERENCES devices (id),
  device_code text CONSTRAINT fk_code REFERENCES devices (code));
CREATE TABLE parts (id int PRIMARY KEY, parent_id int CONSTRAINT fk_parent REFERENCES parts (id));
"""


def catalog_after(*sql: str) -> Catalog:
    catalog = Catalog()
    for text in sql:
        for _, node in split_statements(text):
            catalog.apply(node)
    return catalog


def _answered(catalog: Catalog, sql: str):
    return catalog_answer(parse_sql(sql)[0].stmt, catalog)


def foreign_keys(catalog: Catalog, table: str) -> dict[str, tuple]:
    constraints = catalog.tables[("public", table)].constraints.values()
    return {
        c.name: (c.columns, c.referred, c.referred_columns)
        for c in constraints
        if c.kind == "foreign key"
    }


def test_a_renamed_table_is_still_what_foreign_keys_refer_to() -> None:
    catalog = catalog_after(
        SHOP, "ALTER TABLE devices RENAME TO vnf; ALTER TABLE parts RENAME TO p"
    )
    assert foreign_keys(catalog, "attributes") == {
        "fk_device": (("device_id",), ("public", "vnf"), ("id",)),
        "fk_code": (("device_code",), ("public", "vnf"), ("code",)),
    }
    assert foreign_keys(catalog, "p") == {"fk_parent": (("parent_id",), ("public", "p"), ("id",))}


def test_a_renamed_column_is_still_what_foreign_keys_refer_to() -> None:
    catalog = catalog_after(SHOP, "ALTER TABLE devices RENAME COLUMN code TO serial")
    assert foreign_keys(catalog, "attributes")["fk_code"][2] == ("serial",)
    assert foreign_keys(catalog, "attributes")["fk_device"][2] == ("id",)


def test_dropping_what_foreign_keys_refer_to_drops_them() -> None:
    catalog = catalog_after(SHOP, "ALTER TABLE devices DROP COLUMN code CASCADE")
    assert list(foreign_keys(catalog, "attributes")) == ["fk_device"]
    catalog = catalog_after(SHOP, "DROP TABLE devices CASCADE")
    assert foreign_keys(catalog, "attributes") == {}
    assert "devices" not in {name for _, name in catalog.tables}


def test_reflection_follows_foreign_keys_to_a_renamed_table(tmp_path: Path) -> None:
    """tacker renames ``devicetemplates`` to ``vnfd``; a later revision reflects a table that
    refers to it, and SQLAlchemy reflects the referred table too: by its name now."""
    header = "from alembic import op\nimport sqlalchemy as sa\n"
    scripts = {
        "a": "op.create_table('devices', sa.Column('id', sa.Integer, primary_key=True))\n"
        "    op.create_table('attrs', sa.Column('id', sa.Integer, primary_key=True),\n"
        "                    sa.Column('device_id', sa.Integer, sa.ForeignKey('devices.id')))\n",
        "b": "op.rename_table('devices', 'vnf')\n",
        "c": "attrs = sa.Table('attrs', sa.MetaData(), autoload_with=op.get_bind())\n"
        "    (key,) = attrs.foreign_keys\n"
        "    assert key.column.table.name == 'vnf'\n",
    }
    captures = []
    with OfflineCapturer(Config(), 15) as capturer:
        for parent, (revision, body) in zip([None, "a", "b"], scripts.items(), strict=True):
            path = tmp_path / f"{revision}.py"
            path.write_text(
                f"{header}revision = {revision!r}\ndown_revision = {parent!r}\n"
                f"def upgrade():\n    {body}"
            )
            captures.append(capturer.capture(read_script(path), with_downgrade=False))
    assert [c.upgrade.failure for c in captures] == [None, None, None]


def test_a_renamed_type_is_the_type_of_its_columns_under_its_new_name() -> None:
    """mage-ai renames an enum to make a new one in its place, then changes the column over:
    the change is from the old type, not from the new one to itself."""
    catalog = catalog_after(
        "CREATE TYPE status AS ENUM ('a', 'b'); CREATE TABLE runs (id int, s status, t status[])",
        "ALTER TYPE status RENAME TO old_status; CREATE TYPE status AS ENUM ('a', 'b', 'c')",
    )
    columns = catalog.tables[("public", "runs")].columns
    assert [columns[c].type_sql for c in ("s", "t")] == ["old_status", "old_status[]"]
    assert catalog.enums == {
        ("public", "old_status"): ["a", "b"],
        ("public", "status"): ["a", "b", "c"],
    }


def test_a_table_the_history_only_altered_keeps_what_it_added() -> None:
    """Kotti's ``nodes`` is made by ``metadata.create_all()``, and its revisions add columns:
    those are known (a later widening of ``path`` is no rewrite), the table as a whole is
    not, and reflection does not answer for it."""
    catalog = catalog_after(
        "ALTER TABLE nodes ADD COLUMN path varchar(1000)",
        "CREATE INDEX ix_nodes_path ON nodes (path)",
        "ALTER TABLE IF EXISTS pages ADD COLUMN body text",
    )
    assert catalog.table(("public", "nodes")) is None
    assert not catalog.certain(("public", "nodes"), None)
    assert catalog.column(("public", "nodes"), "path").type_sql == "varchar(1000)"
    assert ("public", "pages") not in catalog.tables  # it may not exist
    for _, node in split_statements("ALTER TABLE nodes DROP COLUMN path"):
        catalog.apply(node)
    assert ("public", "ix_nodes_path") not in catalog.indexes  # it went with its column


def test_reflection_answers_for_a_table_the_history_only_altered_and_says_so(
    tmp_path: Path,
) -> None:
    """Kotti's and qcfractal's tables come from the application's ``create_all()``; the
    history alters them, so they exist: ``has_table`` says so, and reflecting one gives the
    columns the history added, a partial answer the capture records (a notice says so)."""
    header = "from alembic import op\nimport sqlalchemy as sa\n"
    scripts = {
        "a": "op.add_column('nodes', sa.Column('path', sa.Unicode(1000)))\n",
        "b": "assert sa.inspect(op.get_bind()).has_table('nodes')\n"
        "    names = [c['name'] for c in sa.inspect(op.get_bind()).get_columns('nodes')]\n"
        "    assert names == ['path']\n",
    }
    captures = []
    with OfflineCapturer(Config(), 15) as capturer:
        for parent, (revision, body) in zip([None, "a"], scripts.items(), strict=True):
            path = tmp_path / f"{revision}.py"
            path.write_text(
                f"{header}revision = {revision!r}\ndown_revision = {parent!r}\n"
                f"def upgrade():\n    {body}"
            )
            captures.append(capturer.capture(read_script(path), with_downgrade=False))
    assert [c.upgrade.failure for c in captures] == [None, None]
    assert captures[1].upgrade.recorder.partial_reflections == {("public", "nodes"): (7, True)}


def test_a_key_added_using_an_index_takes_its_columns_and_renames_it() -> None:
    """qcfractal moves ``user_session``'s primary key to ``public_id`` through ``PRIMARY KEY
    USING INDEX``: the key is on the index's columns, and the index takes its name."""
    catalog = catalog_after(
        "CREATE TABLE s (id int, public_id int NOT NULL)",
        "CREATE UNIQUE INDEX s_public_id_idx ON s (public_id)",
        "ALTER TABLE s ADD CONSTRAINT s_pkey PRIMARY KEY USING INDEX s_public_id_idx",
    )
    key = catalog.tables[("public", "s")].constraints["s_pkey"]
    assert (key.kind, key.columns) == ("primary key", ("public_id",))
    assert set(catalog.indexes) == {("public", "s_pkey")}
    assert catalog.indexes[("public", "s_pkey")].columns == ("public_id",)


def test_dropping_a_table_or_view_is_remembered_as_gone() -> None:
    """A table the history had is not there in any database it migrated: asking for it
    needs no notice (``Catalog.gone``); a name it never had is not gone."""
    catalog = catalog_after(
        "CREATE TABLE old (id int)",
        "CREATE TABLE moved (id int)",
        "CREATE VIEW v AS SELECT 1",
        "DROP TABLE old",
        "ALTER TABLE moved RENAME TO here",
        "DROP VIEW v",
        "DROP TABLE IF EXISTS never",
    )
    assert catalog.gone == {("public", "old"), ("public", "moved"), ("public", "v")}


def test_what_a_do_block_makes_is_made() -> None:
    """datajunction makes its enum in ``DO $$ BEGIN CREATE TYPE ... EXCEPTION WHEN
    duplicate_object THEN null; END $$``; others guard a CREATE TABLE with IF NOT EXISTS.
    What a block changes or drops depends on its conditions and is left as it is; a body
    in another language, or one that does not parse, changes nothing."""
    catalog = catalog_after(
        "CREATE TABLE kept (id int)",
        "DO $$ BEGIN CREATE TYPE strategy AS ENUM ('broadcast', 'merge'); "
        "EXCEPTION WHEN duplicate_object THEN null; END $$;",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'audit') THEN "
        "CREATE TABLE audit (id int); END IF; DROP TABLE kept; END $$",
        "DO LANGUAGE plpython3u $$ plpy.execute('CREATE TABLE py (id int)') $$",
        "DO $$ BEGIN this is not plpgsql; END $$",
    )
    assert catalog.enums[("public", "strategy")] == ["broadcast", "merge"]
    assert set(catalog.tables) == {("public", "kept"), ("public", "audit")}


def test_a_primary_key_on_a_table_the_history_only_altered_makes_its_columns_not_null() -> None:
    """mlflow's ``metrics`` is made by the application; its history adds a primary key on
    ``(key, value)``: PostgreSQL makes both NOT NULL, so a later SET NOT NULL scans nothing."""
    catalog = catalog_after(
        "ALTER TABLE metrics ADD COLUMN step bigint",
        "ALTER TABLE metrics ADD CONSTRAINT metric_pk PRIMARY KEY (key, value)",
    )
    metrics = catalog.tables[("public", "metrics")]
    assert metrics.partial
    assert [(c.name, c.nullable) for c in metrics.columns.values()] == [
        ("step", True),
        ("key", False),
        ("value", False),
    ]


def test_a_label_placed_next_to_one_the_catalog_does_not_know_goes_last() -> None:
    """tiled rebuilds an enum from the labels it reads (none, offline), then adds one
    ``AFTER 'container'``: the catalog appends it rather than failing the whole check; and
    whatever a statement names that the catalog lacks changes nothing, without an error."""
    catalog = catalog_after(
        "CREATE TYPE structurefamily AS ENUM ()",
        "ALTER TYPE structurefamily ADD VALUE IF NOT EXISTS 'ragged' AFTER 'container'",
        "ALTER TYPE structurefamily RENAME VALUE 'missing' TO 'other'",
    )
    assert catalog.enums[("public", "structurefamily")] == ["ragged"]


def test_a_key_added_using_an_index_without_a_name_takes_the_indexs() -> None:
    """PostgreSQL names such a constraint as the index: a later DROP CONSTRAINT names it so."""
    catalog = catalog_after(
        "CREATE TABLE s (id int NOT NULL)",
        "CREATE UNIQUE INDEX s_id_idx ON s (id)",
        "ALTER TABLE s ADD PRIMARY KEY USING INDEX s_id_idx",
    )
    assert list(catalog.tables[("public", "s")].constraints) == ["s_id_idx"]
    assert set(catalog.indexes) == {("public", "s_id_idx")}


def test_a_create_in_a_do_block_leaves_an_object_that_exists_as_it_is() -> None:
    """The block is there so that the CREATE may fail: an existing type keeps its labels."""
    catalog = catalog_after(
        "CREATE TYPE status AS ENUM ('a', 'b', 'c')",
        "DO $$ BEGIN CREATE TYPE status AS ENUM ('a', 'b'); "
        "EXCEPTION WHEN duplicate_object THEN null; END $$",
    )
    assert catalog.enums[("public", "status")] == ["a", "b", "c"]


def snapshot(catalog: Catalog) -> dict:
    """Everything a catalog holds, as plain values (tables compared by content)."""
    return {
        "tables": {
            name: (t.name, dict(t.columns), dict(t.constraints), t.created_by, t.partial)
            for name, t in catalog.tables.items()
        },
        "indexes": dict(catalog.indexes),
        "enums": {name: list(labels) for name, labels in catalog.enums.items()},
        "gone": set(catalog.gone),
    }


CHANGES = [
    "ALTER TABLE devices ADD COLUMN serial text NOT NULL",
    "ALTER TABLE devices DROP COLUMN code",  # drops attributes' fk_code too
    "ALTER TABLE devices RENAME TO machines",  # attributes' keys follow it
    "ALTER TABLE devices RENAME COLUMN id TO device_id",
    "ALTER TABLE attributes RENAME CONSTRAINT fk_device TO fk_machine",
    "ALTER TABLE parts ALTER COLUMN parent_id SET NOT NULL",
    "DROP TABLE devices CASCADE",
    "ALTER TYPE mood RENAME TO old_mood",
    "ALTER TYPE mood ADD VALUE 'meh'",
]


@pytest.mark.parametrize("change", CHANGES)
def test_a_copy_and_its_original_change_apart(change: str) -> None:
    """Copies share their tables until one of them changes one: neither sees the other's
    change, whichever of the two makes it, and a copy of a copy neither."""
    original = catalog_after(
        SHOP, "CREATE TYPE mood AS ENUM ('ok'); ALTER TABLE parts ADD COLUMN mood mood"
    )
    before = snapshot(original)
    for changed_one in ("copy", "original", "copy of a copy"):
        source = original.copy()
        copy = source.copy()
        target = {"copy": copy, "original": source, "copy of a copy": copy.copy()}[changed_one]
        untouched = [c for c in (source, copy) if c is not target]
        for _, node in split_statements(change):
            target.apply(node)
        assert snapshot(target) != before, change  # the change did something
        for catalog in untouched:
            assert snapshot(catalog) == before, (change, changed_one)
    assert snapshot(original) == before


@pytest.mark.parametrize(
    "expression",
    ["0", "-1", "1.5", "'it''s'", "E'a\\\\b'", "''", "TRUE", "false", "NULL", "B'101'",
     "now()", "'x'::text", "1e10", "-2.5"],
)  # fmt: skip
def test_a_constant_is_written_as_pglast_writes_it(expression: str) -> None:
    (_, node), *_ = split_statements(f"SELECT {expression}")
    value = node.targetList[0].val
    assert sql_text(value) == RawStream()(value)


@pytest.mark.parametrize(
    ("table", "columns", "kind", "postgresql_names_it"),
    [  # each as PostgreSQL 15 named it in pg_constraint
        ("gp_es_to_l3p_associations", ("external_segment_id", "allocated_address"), "unique",
         "gp_es_to_l3p_associations_external_segment_id_allocated_add_key"),
        ("a_very_long_table_name_that_goes_on_and_on_and_on_forever_x", ("id",), "primary key",
         "a_very_long_table_name_that_goes_on_and_on_and_on_forever__pkey"),
        ("short", ("a_very_long_column_name_that_goes_on_and_on_and_on_forever_and_more",),
         "unique", "short_a_very_long_column_name_that_goes_on_and_on_and_on_fo_key"),
        ("tbl_é_long_name_with_accents_ééééééééééééééé", ("colonne_é_é_é_é_é_é_é_é_é_é_é",),
         "check", "tbl_é_long_name_with_accent_colonne_é_é_é_é_é_é_é_check"),
    ],
)  # fmt: skip
def test_a_long_default_name_is_shortened_as_postgresql_shortens_it(
    table: str, columns: tuple[str, ...], kind: str, postgresql_names_it: str
) -> None:
    """group-based-policy drops an unnamed unique constraint by the name PostgreSQL gave
    it: the longer of table and columns is shortened, and the suffix kept."""
    assert default_constraint_name(table, columns, kind) == postgresql_names_it


def test_unqualified_names_live_where_set_search_path_puts_them() -> None:
    """GeoNature's revisions run schema dumps that begin ``SET search_path = taxonomie,
    pg_catalog, public``: their bare names are made in, and found along, that path, for
    the rest of the session (later statements, later revisions)."""
    catalog = catalog_after(
        "CREATE TABLE shared (id int)",
        "SET search_path = taxonomie, pg_catalog, public; CREATE SCHEMA taxonomie;"
        "CREATE TABLE bib_noms (id int); ALTER TABLE ONLY bib_noms ADD CONSTRAINT pk PRIMARY"
        " KEY (id); CREATE INDEX ix_shared ON shared (id); CREATE SEQUENCE seq_noms",
    )
    assert ("taxonomie", "bib_noms") in catalog.tables and (
        "public",
        "bib_noms",
    ) not in catalog.tables
    assert catalog.tables[("taxonomie", "bib_noms")].constraints["pk"].kind == "primary key"
    assert catalog.indexes[("public", "ix_shared")].table == ("public", "shared")  # found in public
    assert ("taxonomie", "seq_noms") in catalog.sequences
    later = catalog.copy()  # the next revision, the same session
    for _, node in split_statements("DROP TABLE bib_noms"):
        later.apply(node)
    assert ("taxonomie", "bib_noms") not in later.tables
    for reset in ("RESET search_path", "SELECT set_config('search_path', 'public', false)"):
        again = catalog.copy()
        for _, node in split_statements(f"{reset}; CREATE TABLE bib_noms (id int)"):
            again.apply(node)
        assert ("public", "bib_noms") in again.tables


def test_what_is_settled_after_a_revision_not_captured_whole_follows_renames() -> None:
    catalog = catalog_after("CREATE TABLE old_t (a int); CREATE TABLE kept (b int)")
    catalog.end_revision(exact=False)
    for _, node in split_statements(
        "CREATE TABLE t (a int); ALTER TABLE t RENAME TO u; ALTER TABLE kept ADD COLUMN c int"
    ):
        catalog.apply(node)
    assert catalog.nullability_known(("public", "u"), "a")
    assert catalog.nullability_known(("public", "kept"), "c")
    assert not catalog.nullability_known(("public", "kept"), "b")
    assert not catalog.nullability_known(("public", "old_t"), "a")


def test_dropping_a_column_or_a_view_drops_what_depends_on_it() -> None:
    """PostgreSQL drops the CHECK constraints involving a dropped column (kadi's
    ``ck_displayname_length``, then made again by the downgrade), and a materialized view's
    indexes with it (taxhub drops and makes its views again, indexes too)."""
    catalog = catalog_after(
        "CREATE TABLE ident (id int, name text, CONSTRAINT ck_len CHECK (char_length(name) < 9),"
        " CONSTRAINT ck_id CHECK (id > 0));"
        "CREATE MATERIALIZED VIEW vm AS SELECT 1 AS gid; CREATE INDEX ix_vm ON vm (gid)",
        "ALTER TABLE ident DROP COLUMN name; DROP MATERIALIZED VIEW vm",
    )
    assert set(catalog.tables[("public", "ident")].constraints) == {"ck_id"}
    assert ("public", "ix_vm") not in catalog.indexes


def test_a_default_name_already_taken_gets_the_next_number_as_postgresql_gives_it() -> None:
    """mistral's history adds three unnamed UNIQUE constraints whose names PostgreSQL
    shortens to the same ``..._key``: it names them ``_key``, ``_key1``, ``_key2``
    (ChooseRelationName; checked on PostgreSQL 15), and mistral's own later revision drops
    ``_key1`` by that name. A CHECK or a foreign key is numbered among constraints only."""
    catalog = catalog_after(
        "CREATE TABLE t (a int, b int, c int, UNIQUE (a, b))",
        "ALTER TABLE t ADD UNIQUE (a, b)",
        "ALTER TABLE t ADD UNIQUE (a, b)",
        "CREATE INDEX ON t (c)",
        "CREATE INDEX ON t (c)",
        "ALTER TABLE t ADD CHECK (a > 0)",
        "ALTER TABLE t ADD CHECK (a > 1)",
        "CREATE TABLE t_c_idx2 (id int)",  # a table's name is taken for indexes too
        "CREATE INDEX ON t (c)",
    )
    table = catalog.tables[("public", "t")]
    assert [n for n, c in table.constraints.items() if c.kind == "unique"] == [
        "t_a_b_key", "t_a_b_key1", "t_a_b_key2",
    ]  # fmt: skip
    assert [n for n, c in table.constraints.items() if c.kind == "check"] == [
        "t_a_check", "t_a_check1",
    ]  # fmt: skip
    assert {n for (_, n), i in catalog.indexes.items() if i.columns == ("c",)} == {
        "t_c_idx", "t_c_idx1", "t_c_idx3",
    }  # fmt: skip


def test_keys_of_one_create_table_on_the_same_columns_are_one_constraint() -> None:
    """nbgrader's ``sa.Column("id", primary_key=True, unique=True)`` and aim's UNIQUE written
    twice: PostgreSQL keeps the primary key, or the first UNIQUE, and no other index."""
    catalog = catalog_after(
        "CREATE TABLE course (id varchar(128) NOT NULL, PRIMARY KEY (id), UNIQUE (id))",
        "CREATE TABLE tag (id int PRIMARY KEY, name text, UNIQUE (name), UNIQUE (name))",
    )
    assert list(catalog.tables[("public", "course")].constraints) == ["course_pkey"]
    assert list(catalog.tables[("public", "tag")].constraints) == ["tag_pkey", "tag_name_key"]
    assert sorted(name for _, name in catalog.indexes) == [
        "course_pkey", "tag_name_key", "tag_pkey",
    ]  # fmt: skip


def test_an_unnamed_check_is_named_after_the_one_column_it_reads() -> None:
    """Wherever it is declared: PostgreSQL names it from the condition's columns."""
    catalog = catalog_after(
        "CREATE TABLE t (a int CHECK (b > 0), b int, c int CHECK (a > 0 AND c > 0))"
    )
    assert list(catalog.tables[("public", "t")].constraints) == ["t_b_check", "t_check"]


def test_dropping_a_key_with_cascade_drops_the_foreign_keys_that_use_it() -> None:
    """airflow's downgrade drops ``task_instance_composite_key`` CASCADE, then adds back the
    keys that referred to it: they were gone."""
    catalog = catalog_after(
        "CREATE TABLE ti (dag_id text, run_id text, CONSTRAINT ti_key UNIQUE (dag_id, run_id))",
        "CREATE TABLE xcom (dag_id text, run_id text, CONSTRAINT xcom_ti_fkey FOREIGN KEY "
        "(dag_id, run_id) REFERENCES ti (dag_id, run_id))",
        "ALTER TABLE ti DROP CONSTRAINT ti_key CASCADE",
    )
    assert foreign_keys(catalog, "xcom") == {}


def test_a_join_on_nothing_of_a_large_catalog_is_not_answered_and_ends() -> None:
    """A catalog query joins relations as many times as it names them: one that joins them
    on nothing (``FROM pg_class a, pg_class b``) would weigh every pair of a large schema's
    relations. It is left unanswered (a read, as any query not told here), at once; a join
    on a condition of the same schema is answered."""
    catalog = catalog_after(*(f"CREATE TABLE t{n} (id integer PRIMARY KEY)" for n in range(400)))

    def answer(sql: str):
        return _answered(catalog, sql)

    assert answer("SELECT count(*) FROM pg_class a, pg_class b") is None
    # each step within bounds, all of them together not (a tester's 150 joins ran for 60 s)
    joins = " ".join(f"JOIN pg_namespace n{i} ON n{i}.nspname = 'public'" for i in range(150))
    assert answer(f"SELECT count(*) FROM pg_class c, pg_namespace m {joins}") is None
    joined = answer(
        "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relname = 't7'"
    )
    assert joined == ([("id",)], ["attname"])


def test_catalog_answers_tell_objects_of_one_name_in_two_schemas_apart() -> None:
    """A tester's ``public.users`` and ``app.users``, an index on the first only: oids were
    bare names, so the index was found on ``app.users`` too, and its CREATE INDEX skipped."""
    catalog = catalog_after(
        "CREATE TABLE users (id integer, name text)",
        "CREATE SCHEMA app",
        "CREATE TABLE app.users (id integer, name text, email text)",
        "CREATE INDEX ix_users_name ON users (name)",
    )
    index_of = (
        "SELECT ix.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_class ix ON ix.oid = "
        "i.indexrelid WHERE n.nspname = '{}' AND t.relname = 'users'"
    )
    assert _answered(catalog, index_of.format("app")) == ([], ["relname"])
    assert _answered(catalog, index_of.format("public")) == ([("ix_users_name",)], ["relname"])
    columns = "SELECT count(*) FROM pg_attribute WHERE attrelid = '{}'::regclass"
    assert _answered(catalog, columns.format("app.users")) == ([(3,)], ["count"])
    assert _answered(catalog, columns.format("users")) == ([(2,)], ["count"])


def test_catalog_answers_know_domains_empty_schemas_and_sql_of_order_and_nulls() -> None:
    """A tester's queries answered wrongly: a domain was no type, an empty schema none,
    OFFSET, ORDER BY and DISTINCT were left out, ``<>`` took NULL for a value, and
    ``format('%1$I')`` kept its template."""
    catalog = catalog_after(
        "CREATE DOMAIN email_t AS text",
        "CREATE SCHEMA archive",
        "CREATE TYPE status AS ENUM ('new', 'active', 'gone')",
        "CREATE TABLE t (id serial PRIMARY KEY, name text DEFAULT 'x', flag boolean)",
    )
    assert _answered(catalog, "SELECT typtype FROM pg_type WHERE typname = 'email_t'") == (
        [("d",)],
        ["typtype"],
    )
    assert _answered(catalog, "SELECT 1 FROM pg_namespace WHERE nspname = 'archive'") == (
        [(1,)],
        ["?column?"],
    )
    labels = (
        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "WHERE t.typname = 'status' ORDER BY e.enumsortorder {}"
    )
    assert _answered(catalog, labels.format("DESC LIMIT 1"))[0] == [("gone",)]
    assert _answered(catalog, labels.format("LIMIT 1 OFFSET 1"))[0] == [("active",)]
    assert _answered(catalog, "SELECT DISTINCT table_name FROM information_schema.columns")[0] == [
        ("t",)
    ]
    defaults = (
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 't' AND column_default <> 'none' ORDER BY 1"
    )  # the NULL default of flag is not "not 'none'"
    assert _answered(catalog, defaults)[0] == [("id",), ("name",)]
    drop = "SELECT format('DROP INDEX %1$I.%2$I', schemaname, indexname) FROM pg_indexes"
    assert _answered(catalog, drop)[0] == [("DROP INDEX public.t_pkey",)]


def test_a_query_of_pg_attribute_is_not_answered_where_a_table_is_partly_known() -> None:
    """A tester's table the history only altered: pg_attribute left it out, so a column
    the history added was not there, and adding it again was object-already-exists."""
    catalog = catalog_after("ALTER TABLE legacy ADD COLUMN x text")
    query = (
        "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relname = 'legacy' AND a.attname = 'x'"
    )
    assert _answered(catalog, query) is None
