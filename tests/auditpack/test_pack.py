"""The auditor's pack: what `barometre audit pack` writes, and what `verify-pack` refuses."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from survey.auditpack.registry import register_pack_section, unregister_pack_section
from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.models import AuditEvent, Customer, Invitation
from survey.reporting.synthetic import seed_synthetic_responses


@pytest.fixture
def closed(app):
    """Last year's closed campaign and this year's, of one programme (this year's is packed)."""
    with app.app_context():
        for year, shift, n in ((2025, -0.3, 100), (2026, 0.0, 140)):
            campaign = create_campaign(
                db.session, f"barometre-{year}", programme="Baromètre service client",
                year=year, questionnaire_key="nf-relation-client", actor="test",
            )  # fmt: skip
            seed_synthetic_responses(db.session, campaign, rng_seed=year, n_respondents=n,
                                     shift=shift)  # fmt: skip
            campaign.status = "closed"
        db.session.commit()
    return "barometre-2026"


def _pack(runner, slug, out, *extra):
    result = runner.invoke(["audit", "pack", slug, "--out", str(out), "--no-pdf", *extra])
    assert result.exit_code == 0, result.output
    return result


def _verify(runner, path):
    return runner.invoke(["audit", "verify-pack", str(path)])


def _rewrite(source: Path, target: Path, *, change=None, drop=(), add=None) -> None:
    """A copy of the zip `source` with files changed, dropped or added."""
    change, add = change or {}, add or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename in drop:
                continue
            content = old.read(info)
            if info.filename in change:
                content = change[info.filename](content)
            new.writestr(info.filename, content)
        for name, content in add.items():
            new.writestr(name, content)


def _read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_pack_of_a_closed_campaign_lists_every_file_and_verifies(app, runner, closed, tmp_path):
    out = tmp_path / "pack.zip"
    printed = _pack(runner, closed, out).output
    assert f"pack of {closed} written to {out}" in printed
    files = _read(out)
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "barometre-audit-pack"
    assert manifest["barometre_version"] and manifest["generated_at"]
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest()
        assert entry["size"] == len(files[name])
    expected = {
        f"report/{closed}-report-fr.html", f"export/{closed}.csv",
        f"export/{closed}.design.json", f"export/{closed}.sample.csv",
        "questionnaire/definition.json", "questionnaire/version.json", "plan/draw.json",
        "followups/figures.json", "audit/trail.jsonl", "audit/head.json",
    }
    assert expected <= set(files)
    # The PDF left out is said, not faked.
    assert manifest["report"]["pdf"] is None
    assert "left out" in manifest["report"]["pdf_note"]

    # The export is the one `barometre export` writes; the report was computed from it.
    exported = runner.invoke(["export", closed, "--format", "csv",
                              "--out", str(tmp_path / "e.csv")])
    assert exported.exit_code == 0, exported.output
    head = json.loads(files["audit/head.json"])
    assert head["chain"]["ok"] and head["head"]["hash"]
    assert head["verify_command"] == f"barometre audit verify --head {head['head']['hash']}"
    assert runner.invoke(["audit", "verify", "--head", head["head"]["hash"]]).exit_code == 0
    with app.app_context():
        from survey.campaigns.operations import get_campaign
        from survey.editor.operations import export_yaml

        campaign = get_campaign(db.session, closed)
        version = campaign.questionnaire_version
        assert files[f"export/{closed}.csv"] == (tmp_path / "e.csv").read_bytes()
        assert files[f"export/{closed}.design.json"] == (tmp_path / "e.design.json").read_bytes()
        assert manifest["report"]["data_sha256"] == hashlib.sha256(
            files[f"export/{closed}.csv"]).hexdigest()
        # The questionnaire as the editor exports it, and the hash the report prints.
        yaml_name = f"questionnaire/{version.key}-{version.number}.yaml"
        assert files[yaml_name].decode() == export_yaml(db.session, version.key, version.number)
        assert hashlib.sha256(files["questionnaire/definition.json"]).hexdigest() == version.sha256
        assert version.sha256 in files[f"report/{closed}-report-fr.html"].decode()
        # The draw record and the loop's figures are the campaign's.
        draw = json.loads(files["plan/draw.json"])
        assert draw["seed"] == campaign.seed and draw["frame_counts"] == campaign.frame_counts
        assert sum(draw["drawn_per_stratum"].values()) == len(db.session.scalars(
            select(Invitation).where(Invitation.campaign_id == campaign.id)).all())
        followups = json.loads(files["followups/figures.json"])
        assert followups["all"]["total"] > 0
        # The trail: the campaign's sealed events, ending at the chain's head.
        trail = [json.loads(line) for line in files["audit/trail.jsonl"].decode().splitlines()]
        assert trail and all(event["campaign_id"] == campaign.id for event in trail)
        assert all(event["hash"] for event in trail)
        assert trail[-1]["seq"] <= head["head"]["seq"]
        # Making the pack is in the trail.
        made = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "campaign.audit_pack")).all()
        assert len(made) == 1 and made[0].summary["sha256"] == hashlib.sha256(
            out.read_bytes()).hexdigest()

    verified = _verify(runner, out)
    assert verified.exit_code == 0, verified.output
    assert "pack intact" in verified.output
    numbers = int(re.search(r"gives the (\d+) numbers", verified.output).group(1))
    assert numbers > 10  # the whole sample and the domains


def test_a_changed_byte_a_removed_and_an_added_file_are_each_named(runner, closed, tmp_path):
    out = tmp_path / "pack.zip"
    _pack(runner, closed, out)
    draw = "plan/draw.json"

    def flip(content: bytes) -> bytes:
        return content[:10] + bytes([content[10] ^ 1]) + content[11:]

    _rewrite(out, tmp_path / "changed.zip", change={draw: flip})
    result = _verify(runner, tmp_path / "changed.zip")
    assert result.exit_code == 2
    assert f"{draw}: altered" in result.output

    _rewrite(out, tmp_path / "removed.zip", drop={"followups/figures.json"})
    result = _verify(runner, tmp_path / "removed.zip")
    assert result.exit_code == 2
    assert "followups/figures.json: listed in the manifest, missing from the pack" in result.output

    _rewrite(out, tmp_path / "added.zip", add={"notes.txt": b"added later"})
    result = _verify(runner, tmp_path / "added.zip")
    assert result.exit_code == 2
    assert "notes.txt: in the pack, not listed in the manifest" in result.output
    # Each time, only what differs is named.
    assert "altered" not in result.output and "missing" not in result.output


def test_an_export_whose_numbers_differ_from_the_report_is_refused(runner, closed, tmp_path):
    """Even with a manifest rewritten to match, the report's numbers give the change away."""
    out = tmp_path / "pack.zip"
    _pack(runner, closed, out)
    files = _read(out)
    data = f"export/{closed}.csv"
    frame = pd.read_csv(io.BytesIO(files[data]))
    frame.loc[frame.index[:40], "overall"] = 1  # forty respondents made very dissatisfied
    tampered = frame.to_csv(index=False).encode("utf-8")
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] == data:
            entry.update(sha256=hashlib.sha256(tampered).hexdigest(), size=len(tampered))
    _rewrite(out, tmp_path / "tampered.zip", change={
        data: lambda _: tampered,
        "manifest.json": lambda _: json.dumps(manifest).encode(),
    })
    result = _verify(runner, tmp_path / "tampered.zip")
    assert result.exit_code == 2, result.output
    assert "altered" not in result.output  # the manifest agrees with the files
    assert f"{data}: its SHA-256 is not that of the data the report was computed from" \
        in result.output
    assert re.search(r"overall_satisfied \(whole sample\): estimate is [0-9.]+ in the report, "
                     r"[0-9.]+ from analyze", result.output)


def test_a_report_whose_stated_numbers_were_edited_is_refused(runner, closed, tmp_path):
    out = tmp_path / "pack.zip"
    _pack(runner, closed, out)
    files = _read(out)
    name = f"report/{closed}-report-fr.html"
    html = files[name].decode()
    block = re.search(r'id="report-figures">(.*?)</script>', html, re.DOTALL).group(1)
    figures = json.loads(block)
    first = next(e for e in figures["estimates"] if e["domain"] is None)
    first["n"] += 1
    # Beyond the estimates (issue #24): a response rate the report states, edited.
    stated_rr1 = figures["response_rates"]["overall"]["rr1"]
    figures["response_rates"]["overall"]["rr1"] = stated_rr1 + 0.01
    edited = html.replace(block, json.dumps(figures)).encode()
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] == name:
            entry.update(sha256=hashlib.sha256(edited).hexdigest(), size=len(edited))
    _rewrite(out, tmp_path / "edited.zip", change={
        name: lambda _: edited, "manifest.json": lambda _: json.dumps(manifest).encode()})
    result = _verify(runner, tmp_path / "edited.zip")
    assert result.exit_code == 2
    assert f"{first['indicator']} (whole sample): n is {first['n']} in the report, " \
        f"{first['n'] - 1} from analyze" in result.output
    assert f"response_rates.overall.rr1: {stated_rr1 + 0.01!r} in the report, " \
        f"{stated_rr1!r} from analyze" in result.output


def test_a_file_that_is_not_a_pack_is_refused_clearly(runner, tmp_path):
    text = tmp_path / "notes.zip"
    text.write_text("not a zip")
    result = _verify(runner, text)
    assert result.exit_code == 2
    assert "not an auditor's pack (not a zip file" in result.output
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    result = _verify(runner, other)
    assert result.exit_code == 2
    assert "not an auditor's pack (it has no manifest.json)" in result.output
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("manifest.json", '{"files": []}')
    result = _verify(runner, other)
    assert result.exit_code == 2
    assert "is not the manifest of an auditor's pack" in result.output
    assert _verify(runner, tmp_path / "absent.zip").exit_code == 2


def test_unknown_campaign_is_bad_input(runner, tmp_path):
    result = runner.invoke(["audit", "pack", "nope", "--out", str(tmp_path / "p.zip")])
    assert result.exit_code == 2
    assert not (tmp_path / "p.zip").exists()


def test_registered_sections_are_packed_listed_and_checked(app, runner, closed, tmp_path):
    def criteria(session, campaign):
        return {"criteria.csv": f"campaign,{campaign.slug}\n".encode()}

    def broken(session, campaign):
        raise RuntimeError("no criteria table")

    register_pack_section("criteria", criteria)
    register_pack_section("broken", broken)
    try:
        out = tmp_path / "pack.zip"
        result = _pack(runner, closed, out)
        assert "section broken left out: RuntimeError: no criteria table" in result.output
        files = _read(out)
        manifest = json.loads(files["manifest.json"])
        assert files["criteria/criteria.csv"] == f"campaign,{closed}\n".encode()
        assert manifest["sections"]["criteria"] == {"files": ["criteria/criteria.csv"]}
        assert manifest["sections"]["broken"] == {"error": "RuntimeError: no criteria table"}
        assert _verify(runner, out).exit_code == 0
        _rewrite(out, tmp_path / "changed.zip",
                 change={"criteria/criteria.csv": lambda c: c + b"x"})
        assert "criteria/criteria.csv: altered" in _verify(runner, tmp_path / "changed.zip").output
    finally:
        unregister_pack_section("criteria")
        unregister_pack_section("broken")
    with pytest.raises(ValueError, match="none of report"):
        register_pack_section("report", criteria)
    with pytest.raises(ValueError):
        register_pack_section("Bad Name", criteria)


def test_a_section_file_name_cannot_leave_its_folder(app, runner, closed, tmp_path):
    register_pack_section("escape", lambda session, campaign: {"../manifest.json": b"{}"})
    try:
        result = _pack(runner, closed, tmp_path / "pack.zip")
        assert "section escape left out" in result.output
        assert "../manifest.json" not in _read(tmp_path / "pack.zip")
    finally:
        unregister_pack_section("escape")


def test_the_pack_holds_no_email_or_phone_of_the_customer_base(app, runner, tmp_path):
    """A campaign drawn from an imported base: the customers' contacts stay out of the pack."""
    from survey.frame.importing import import_customers
    from survey.frame.sampling import draw_sample, plan_campaign
    from survey.frame.synthetic import synthetic_customer_csv

    with app.app_context():
        import_customers(db.session, synthetic_customer_csv(1500, seed=5), "base.csv",
                         actor="test")  # fmt: skip
        campaign = create_campaign(
            db.session, "drawn-2026", programme="Drawn", year=2026,
            questionnaire_key="nf-relation-client", actor="test",
        )  # fmt: skip
        secret = app.config["SECRET_KEY"]
        plan_campaign(db.session, campaign, strata_variables=["segment"], margin=0.08,
                      confidence=0.95, response_rate=0.5, secret_key=secret, actor="test")
        draw_sample(db.session, campaign, 42, secret_key=secret, actor="test")
        invited = db.session.scalars(select(Invitation).where(
            Invitation.campaign_id == campaign.id)).all()  # fmt: skip
        seed_synthetic_responses(db.session, campaign, rng_seed=1, n_respondents=len(invited) // 2)
        campaign.status = "closed"
        db.session.commit()
        customers = db.session.scalars(select(Customer)).all()
        emails = {c.email for c in customers if c.email}
        phones = {c.phone for c in customers if c.phone}
    assert len(emails) > 1000 and len(phones) > 1000
    out = tmp_path / "pack.zip"
    _pack(runner, "drawn-2026", out)
    for name, content in _read(out).items():
        text = content.decode("utf-8")
        found = [email for email in emails if email in text]
        assert not found, f"{name} holds customers' emails: {found[:3]}"
        found = [phone for phone in phones if phone in text or re.search(
            rf"(?<!\d)0{phone[-9:]}(?!\d)", text)]
        assert not found, f"{name} holds customers' phones: {found[:3]}"
    assert _verify(runner, out).exit_code == 0


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is absent")
def test_the_pack_holds_the_report_printed_to_pdf(runner, closed, tmp_path):
    out = tmp_path / "pack.zip"
    result = runner.invoke(["audit", "pack", closed, "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    files = _read(out)
    manifest = json.loads(files["manifest.json"])
    assert manifest["report"]["lang"] == "en"
    assert manifest["report"]["pdf"] == f"report/{closed}-report-en.pdf"
    assert files[manifest["report"]["pdf"]].startswith(b"%PDF")
    assert _verify(runner, out).exit_code == 0
