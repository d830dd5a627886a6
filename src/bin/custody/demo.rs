//! `custody demo`: builds the provenance ledger of a small example model
//! release, verifies it, exports it, and shows what a user would look at.

use crate::{output, Failure};
use custody::{Error, VerifyOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The example release's events, in the order its teams would append them.
/// `{DATA}` and `{EVAL}` stand for the data and evaluation teams' keys.
const STAGES: [(&str, &str, &str); 4] = [
    (
        "01-access.jsonl",
        "release-owner",
        r#"{"type":"grant","key":"{DATA}","role":"appender","note":"data team appends as the pipeline runs"}
{"type":"grant","key":"{EVAL}","role":"appender","note":"evaluation contractor, for the length of the engagement"}
"#,
    ),
    (
        "02-data.jsonl",
        "data-team",
        r#"{"type":"artifact","id":"cc-2024-10","kind":"data","uri":"https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-10/","digest":"sha256:4f2b9c1e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c","size":412316860416,"description":"Common Crawl, March 2024 snapshot, WET text"}
{"type":"custody","artifact":"cc-2024-10","from":"Common Crawl Foundation (https://commoncrawl.org)","to":"Example Lab data team","note":"downloaded to the lab's object store"}
{"type":"license","artifact":"cc-2024-10","license":"LicenseRef-Common-Crawl"}
{"type":"artifact","id":"cc-dedup","kind":"data","digest":"sha256:9a8b7c6d5e4f30211fedcba98765432100112233445566778899aabbccddeeff"}
{"type":"transformation","operation":"dedup","inputs":["cc-2024-10"],"outputs":["cc-dedup"],"tool":"text-dedup 0.4 (MinHash LSH)","parameters":{"threshold":0.8,"num_perm":128,"ngram":5}}
{"type":"artifact","id":"cc-filtered","kind":"data","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
{"type":"transformation","operation":"filter","inputs":["cc-dedup"],"outputs":["cc-filtered"],"tool":"quality-filter 1.2","parameters":{"lang":"en","min_words":50,"max_perplexity":1500}}
{"type":"artifact","id":"cc-clean","kind":"data","digest":"sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210","size":96636764160}
{"type":"transformation","operation":"pii-scrub","inputs":["cc-filtered"],"outputs":["cc-clean"],"tool":"pii-scrubber 2.0","parameters":{"entities":["email","phone","ip"]}}
{"type":"artifact","id":"teacher-13b","kind":"weights","uri":"https://models.example.org/teacher-13b","description":"instruction-tuned teacher model, Llama 2 based"}
{"type":"license","artifact":"teacher-13b","license":"LicenseRef-Llama-2"}
{"type":"release","artifact":"teacher-13b","access":"public"}
{"type":"artifact","id":"seed-instructions","kind":"data","digest":"sha256:aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999","description":"2,000 instructions written by the lab's annotators"}
{"type":"license","artifact":"seed-instructions","license":"CC-BY-4.0"}
{"type":"artifact","id":"synthetic-instructions","kind":"data","digest":"sha256:1111222233334444555566667777888899990000aaaabbbbccccddddeeeeffff"}
{"type":"augmentation","method":"synthetic","inputs":["seed-instructions"],"outputs":["synthetic-instructions"],"generator":"teacher-13b","parameters":{"samples":50000,"temperature":0.7}}
{"type":"license","artifact":"synthetic-instructions","license":"CC-BY-4.0"}
"#,
    ),
    (
        "03-eval.jsonl",
        "eval-team",
        r#"{"type":"artifact","id":"eval-harness","kind":"code","uri":"https://git.example.org/lab/eval-harness","digest":"sha256:abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcd"}
{"type":"license","artifact":"eval-harness","license":"Apache-2.0"}
{"type":"artifact","id":"mmlu-subset","kind":"data","uri":"https://data.example.org/mmlu-subset","description":"multiple-choice benchmark, 57 subjects"}
{"type":"license","artifact":"mmlu-subset","license":"MIT"}
"#,
    ),
    (
        "04-release.jsonl",
        "release-owner",
        r#"{"type":"revoke","key":"{EVAL}","note":"engagement ended"}
{"type":"artifact","id":"tinylm-train","kind":"code","uri":"https://git.example.org/lab/tinylm-train","digest":"sha256:5555555555555555555555555555555555555555555555555555555555555555"}
{"type":"artifact","id":"tinylm-serve","kind":"code","uri":"https://git.example.org/lab/tinylm-serve"}
{"type":"artifact","id":"tinylm-base","kind":"weights","digest":"sha256:6666666666666666666666666666666666666666666666666666666666666666","description":"pretrained base model, before instruction tuning"}
{"type":"transformation","operation":"pretrain","inputs":["cc-clean","tinylm-train"],"outputs":["tinylm-base"],"tool":"tinylm-train 1.0 on 64 GPUs","parameters":{"tokens":300000000000,"lr":0.0003,"seed":1234}}
{"type":"artifact","id":"tinylm-1.0","kind":"weights","uri":"https://models.example.org/tinylm-1.0","digest":"sha256:7777777777777777777777777777777777777777777777777777777777777777","size":2684354560}
{"type":"transformation","operation":"finetune","inputs":["tinylm-base","seed-instructions","synthetic-instructions","tinylm-train"],"outputs":["tinylm-1.0"],"tool":"tinylm-train 1.0","parameters":{"epochs":3,"lr":0.00002}}
{"type":"license","artifact":"tinylm-train","license":"MIT"}
{"type":"license","artifact":"tinylm-serve","license":"Apache-2.0"}
{"type":"license","artifact":"tinylm-1.0","license":"Apache-2.0"}
{"type":"component","component":"pretraining-code","artifacts":["tinylm-train"]}
{"type":"component","component":"finetuning-code","artifacts":["tinylm-train"]}
{"type":"component","component":"alignment-code","applicable":false,"note":"no preference tuning stage"}
{"type":"component","component":"pretraining-data","artifacts":["cc-clean"]}
{"type":"component","component":"sft-data","artifacts":["seed-instructions","synthetic-instructions"]}
{"type":"component","component":"alignment-data","applicable":false}
{"type":"component","component":"eval-code","artifacts":["eval-harness"]}
{"type":"component","component":"safety-eval-code","applicable":false}
{"type":"component","component":"benchmark-data","artifacts":["mmlu-subset"]}
{"type":"component","component":"safety-eval-data","applicable":false}
{"type":"component","component":"inference-code","artifacts":["tinylm-serve"]}
{"type":"component","component":"weights","artifacts":["tinylm-1.0"]}
{"type":"release","artifact":"cc-clean","access":"none","note":"the cleaned corpus stays internal"}
{"type":"release","artifact":"seed-instructions","access":"public"}
{"type":"release","artifact":"synthetic-instructions","access":"public"}
{"type":"release","artifact":"eval-harness","access":"public"}
{"type":"release","artifact":"mmlu-subset","access":"public"}
{"type":"release","artifact":"tinylm-train","access":"public"}
{"type":"release","artifact":"tinylm-serve","access":"public"}
{"type":"release","artifact":"tinylm-1.0","access":"public"}
"#,
    ),
];

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

pub fn run(out: &mut impl Write, dir: Option<PathBuf>) -> Result<(), Failure> {
    let dir = match dir {
        Some(d) => {
            if d.exists() && std::fs::read_dir(&d).map_err(io(&d))?.next().is_some() {
                return Err(Error::Usage(format!(
                    "{} is not empty; give an empty or new directory",
                    d.display()
                ))
                .into());
            }
            std::fs::create_dir_all(&d).map_err(io(&d))?;
            d
        }
        None => tempfile::Builder::new()
            .prefix("custody-demo-")
            .tempdir()
            .map_err(io(Path::new("temporary directory")))?
            .keep(),
    };
    writeln!(
        out,
        "custody demo: the provenance of an example model release, \"tinylm-1.0\""
    )?;
    writeln!(out, "working in {}\n", dir.display())?;
    // The demo's keys are throwaway: their high-water marks (which stop a
    // key from signing a fork of what it built on) stay in the demo's
    // directory, not the user's state directory. Set before any thread.
    if std::env::var_os("CUSTODY_STATE_DIR").is_none() {
        std::env::set_var("CUSTODY_STATE_DIR", dir.join("state"));
    }

    let keys_dir = dir.join("keys");
    let events_dir = dir.join("events");
    std::fs::create_dir_all(&keys_dir).map_err(io(&keys_dir))?;
    std::fs::create_dir_all(&events_dir).map_err(io(&events_dir))?;
    writeln!(
        out,
        "1. keys, one per team (private keys are PKCS#8 PEM, mode 0600):"
    )?;
    let mut keys = Vec::new();
    for (name, role) in [
        ("release-owner", "owns the ledger; grants and revokes"),
        ("data-team", "appender: records the data pipeline"),
        (
            "eval-team",
            "appender: an evaluation contractor, revoked at release",
        ),
    ] {
        let key = custody::generate()?;
        let path = keys_dir.join(format!("{name}.key"));
        custody::write_key_files(&key, &path)?;
        writeln!(
            out,
            "   {name:<14} {}  {role}",
            hex::encode(key.verifying_key().as_bytes())
        )?;
        keys.push((name, key));
    }
    let key = |n: &str| &keys.iter().find(|(k, _)| *k == n).expect("demo key").1;
    let hex_of = |n: &str| hex::encode(key(n).verifying_key().as_bytes());

    let ledger = dir.join("ledger");
    let id = custody::init(&ledger, key("release-owner"), "tinylm-1.0 release")?;
    writeln!(
        out,
        "\n2. ledger created in {} (id {})",
        ledger.display(),
        hex::encode(id)
    )?;

    writeln!(out, "\n3. events appended, each file as one signed batch:")?;
    for (file, signer, text) in STAGES {
        let text = text
            .replace("{DATA}", &hex_of("data-team"))
            .replace("{EVAL}", &hex_of("eval-team"));
        let path = events_dir.join(file);
        std::fs::write(&path, &text).map_err(io(&path))?;
        let r = custody::append(&ledger, key(signer), text.as_bytes())?;
        writeln!(
            out,
            "   {:<18} signed by {:<14} {:>3} entries  (ledger now {})",
            file, signer, r.appended, r.entries
        )?;
    }

    let export = dir.join("tinylm-1.0.custody");
    custody::export(
        &ledger,
        custody::Output::File {
            path: &export,
            overwrite: false,
        },
    )?;
    writeln!(
        out,
        "\n4. the log of the exported ledger, as `custody log` shows it:"
    )?;
    let mut lines = Vec::new();
    let owner = *key("release-owner").verifying_key().as_bytes();
    let result = custody::verify(&export, &VerifyOptions { owner: Some(owner) }, |e| {
        let mut line = Vec::new();
        output::log_entry(&mut line, &e, false).map_err(io(Path::new("<memory>")))?;
        lines.push(String::from_utf8_lossy(&line).into_owned());
        Ok(())
    });
    for l in &lines {
        write!(out, "   {l}")?;
    }
    writeln!(
        out,
        "\n5. verification of the export, with the owner key pinned:"
    )?;
    let v = result?;
    writeln!(
        out,
        "   valid: {} entries, every hash, signature and authorization checked",
        v.entries()
    )?;
    writeln!(out, "   head:  {}", hex::encode(v.head()))?;
    writeln!(
        out,
        "   owner: {} (pinned, matches)",
        hex::encode(v.owner())
    )?;
    writeln!(
        out,
        "\n6. the openness of each pipeline component, as `custody openness` derives it:"
    )?;
    let o = custody::openness(&v);
    let mut table = Vec::new();
    crate::openness::text(&mut table, &[&o]).map_err(io(Path::new("<memory>")))?;
    // Not indented: the table keeps to 80 columns as it is.
    out.write_all(&table)?;
    // What goes beside the weights on the Hub: the card's metadata and
    // section, and the Model Openness Framework file.
    let card = dir.join("MODEL_CARD.md");
    let mof = dir.join("mof.yml");
    for (file, as_mof) in [(&card, false), (&mof, true)] {
        let mut buf = Vec::new();
        crate::card::run(
            &mut buf,
            std::slice::from_ref(&export),
            &["tinylm-1.0.custody".to_string()],
            as_mof,
            Some(owner),
        )?;
        custody::Output::File {
            path: file,
            overwrite: false,
        }
        .write(&buf)?;
    }
    let attestation = dir.join("tinylm-1.0.intoto.jsonl");
    let statements = crate::attest::statements(
        &export,
        "tinylm-1.0.custody",
        &crate::attest::AttestOptions {
            owner: Some(owner),
            checkpoint: None,
            slsa: true,
        },
    )?;
    custody::Output::File {
        path: &attestation,
        overwrite: false,
    }
    .write(&crate::attest::bundle(&statements, key("release-owner")))?;
    let report = dir.join("report.html");
    let mut page = Vec::new();
    crate::report::run(
        &mut page,
        std::slice::from_ref(&export),
        &["tinylm-1.0.custody".to_string()],
        Some(owner),
    )?;
    custody::Output::File {
        path: &report,
        overwrite: false,
    }
    .write(&page)?;
    writeln!(out, "\nfiles:")?;
    writeln!(out, "   ledger directory  {}", ledger.display())?;
    writeln!(out, "   release file      {}", export.display())?;
    writeln!(out, "   model card        {}", card.display())?;
    writeln!(out, "   MOF file          {}", mof.display())?;
    writeln!(out, "   attestations      {}", attestation.display())?;
    writeln!(out, "   report            {}", report.display())?;
    writeln!(out, "   events            {}", events_dir.display())?;
    writeln!(out, "   keys              {}", keys_dir.display())?;
    writeln!(out, "\ntry:")?;
    writeln!(
        out,
        "   custody verify {} --owner {}",
        export.display(),
        hex::encode(owner)
    )?;
    writeln!(out, "   custody log {} --json", export.display())?;
    writeln!(out, "   custody openness {} --markdown", export.display())?;
    Ok(())
}
