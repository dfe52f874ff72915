"""`barometre questionnaires import | export | list`."""

from __future__ import annotations

import re

from questionnaires import definition_data, definition_yaml, get_bundled


def _file(tmp_path, key="centre"):
    data = definition_data(get_bundled("nf-relation-client"))
    data["id"] = key
    path = tmp_path / f"{key}.yaml"
    path.write_text(definition_yaml(data), encoding="utf-8")
    return path


def test_export_then_import_gives_the_same_sha256(runner, tmp_path) -> None:
    path = _file(tmp_path)
    imported = runner.invoke(["questionnaires", "import", str(path)])
    assert imported.exit_code == 0, imported.output
    sha256 = re.search(r"sha256 ([0-9a-f]{64})", imported.output).group(1)
    assert "centre version 1" in imported.output

    out = tmp_path / "out.yaml"
    exported = runner.invoke(["questionnaires", "export", "centre", "--out", str(out),
                              "--version", "1"])
    assert exported.exit_code == 0, exported.output
    edited = out.read_text(encoding="utf-8").replace("version: '2025.1'", "version: '2026.1'")
    out.write_text(edited, encoding="utf-8")
    again = runner.invoke(["questionnaires", "import", str(out)])
    assert again.exit_code == 0 and "centre version 2" in again.output

    # The first version exported and imported again is the version it was.
    first = tmp_path / "first.yaml"
    runner.invoke(["questionnaires", "export", "centre", "--out", str(first), "--version", "1"])
    same = runner.invoke(["questionnaires", "import", str(first)])
    assert same.exit_code == 0 and "already frozen as centre version 1" in same.output
    assert sha256 in same.output

    listed = runner.invoke(["questionnaires", "list"])
    assert listed.exit_code == 0
    assert "nf-relation-client\ttemplate" in listed.output
    assert "centre\tversion 2\t2026.1" in listed.output
    assert "centre\tversion 1\t2025.1" in listed.output


def test_bad_files_exit_2_with_every_error_and_its_path(runner, tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "id: x\nversion: '1'\nlanguages: [fr]\ntitle: {fr: T}\nintroduction: {fr: I}\n"
        "pages:\n  - questions:\n"
        "      - {code: a, type: rating, min: 5, max: 1, label: {fr: A}}\n"
        "      - {code: a, type: yes_no, label: {fr: B}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(["questionnaires", "import", str(broken)])
    assert result.exit_code == 2
    assert f"{broken}: pages[0].questions[0].max: " in result.output
    assert f"{broken}: pages[0].questions[1].code: " in result.output
    template = tmp_path / "template.yaml"
    template.write_text(definition_yaml(definition_data(get_bundled("nf-relation-client"))),
                        encoding="utf-8")
    refused = runner.invoke(["questionnaires", "import", str(template)])
    assert refused.exit_code == 2 and "key of a template" in refused.output
    missing = runner.invoke(["questionnaires", "export", "nope", "--out", "-"])
    assert missing.exit_code == 2 and "no questionnaire 'nope'" in missing.output


def test_campaigns_create_takes_an_imported_questionnaire(runner, tmp_path) -> None:
    runner.invoke(["questionnaires", "import", str(_file(tmp_path))])
    result = runner.invoke(["campaigns", "create", "b-2026", "--programme", "B", "--year",
                            "2026", "--questionnaire", "centre"])
    assert result.exit_code == 0, result.output
    assert "questionnaire centre" in result.output
