//! The command line, as documented in the README.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Append-only, signed provenance ledger for ML pipelines.
///
/// Exit status: 0 success; 1 the ledger failed verification; 2 bad usage,
/// bad input or an I/O error.
#[derive(Parser, Debug)]
#[command(name = "custody", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How long to wait for a ledger directory another custody process is
    /// using, in seconds, before giving up.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 3.0)]
    pub wait: f64,
}

#[derive(Subcommand, Debug)]
pub enum Prove {
    /// A c2sp.org/tlog-proof@v1 proof that entry SEQ is in the checkpointed tree.
    Inclusion {
        /// A ledger directory, a postgres:// URL, an exported file, or a
        /// served ledger's http:// URL (downloaded and verified here).
        source: PathBuf,
        /// The entry.
        #[arg(long)]
        seq: u64,
        /// An existing signed checkpoint to prove against.
        #[arg(long, conflicts_with = "key")]
        checkpoint: Option<PathBuf>,
        /// Or: sign a checkpoint of the current tree with this key.
        #[arg(long)]
        key: Option<PathBuf>,
        /// The origin of that checkpoint (default: the ledger's).
        #[arg(long, requires = "key")]
        origin: Option<String>,
        /// Where to write the proof (`-`: standard output).
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// The consistency proof from an older checkpoint to the current tree.
    Consistency {
        /// A ledger directory, a postgres:// URL, an exported file, or a
        /// served ledger's http:// URL (downloaded and verified here).
        source: PathBuf,
        /// The older checkpoint.
        #[arg(long)]
        from: PathBuf,
        /// A newer checkpoint to prove to (output is then a tlog-witness add-checkpoint body).
        #[arg(long)]
        to: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum Db {
    /// Create or update custody's tables in a PostgreSQL database (`init`
    /// does this too); prints the schema version.
    Migrate {
        /// postgres://USER@HOST:PORT/DATABASE (a `ledger` parameter is ignored).
        url: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate an Ed25519 key: KEY (PKCS#8 PEM, mode 0600) and KEY.pub (hex).
    Keygen {
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a ledger (a directory, or a postgres:// URL) with its genesis entry; KEY becomes its owner.
    Init {
        /// The ledger to create (a directory that must not exist, or postgres://USER@HOST:PORT/DB?ledger=NAME).
        ledger: PathBuf,
        /// The owner's private key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// The ledger's name.
        #[arg(long)]
        name: String,
    },
    /// Append JSON Lines events, signed by KEY, as one atomic batch.
    ///
    /// One JSON object per line; `type` is one of artifact, custody,
    /// transformation, augmentation, license, release, component, grant,
    /// revoke (README "The events"; schemas/event.schema.json). A training
    /// run is a `transformation` whose inputs are the data and code it
    /// consumed and whose outputs are the weights it produced.
    Append {
        /// The ledger: a directory, a postgres:// URL, or a served ledger
        /// (http://HOST:PORT/NAME: signed here, checked and stored there).
        ledger: PathBuf,
        /// The signer's private key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// JSON Lines file of events; standard input when `-` or absent.
        file: Option<PathBuf>,
        /// Accept input holding no events (by default refused: an empty
        /// file or a failed pipe is rarely what was meant).
        #[arg(long)]
        allow_empty: bool,
        /// Record an artifact line's `path` as its `uri` (file://...); by
        /// default the path only gives the digest, computed here.
        #[arg(long)]
        record_paths: bool,
        /// Append only if the ledger's owner is this key (64 hex digits or
        /// a .pub file): on a machine that never appended to it before,
        /// what makes sure it is the ledger meant.
        #[arg(long)]
        owner: Option<String>,
    },
    /// Verify a ledger (directory or postgres:// URL), exported file or partial export end to end.
    Verify {
        /// A ledger directory, a postgres:// URL, an exported file, a partial
        /// export, or a served ledger's http:// URL (downloaded and verified here).
        source: PathBuf,
        /// The owner key you expect: 64 hex digits or a .pub file.
        #[arg(long)]
        owner: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Also require consistency with this earlier signed checkpoint.
        #[arg(long, requires = "vkey")]
        checkpoint: Option<PathBuf>,
        /// The checkpoint signer's verifier key (the key itself or a file holding it).
        #[arg(long, requires = "checkpoint")]
        vkey: Option<String>,
        /// The checkpoint origin to expect (default: the ledger's own).
        #[arg(long, requires = "checkpoint")]
        origin: Option<String>,
    },
    /// Verify a ledger and print its entries; or print one entry file.
    ///
    /// Given a single entry (as `--seq N --out` writes it), prints it after
    /// checking its signature, and with --proof and --vkey checks that it
    /// is in the checkpointed ledger.
    Log {
        /// A ledger directory, a postgres:// URL, an exported file, one entry's
        /// file, or a served ledger's http:// URL.
        source: PathBuf,
        /// For one entry's file: its inclusion proof (`custody prove inclusion`).
        #[arg(long, requires = "vkey", conflicts_with = "seq")]
        proof: Option<PathBuf>,
        /// The verifier key of the proof's checkpoint (the key or a file holding it).
        #[arg(long, requires = "proof")]
        vkey: Option<String>,
        /// Print JSON Lines: each event with seq, hash, signer, time.
        #[arg(long)]
        json: bool,
        /// Write the bytes of entry SEQ to --out instead of printing.
        #[arg(long, requires = "out")]
        seq: Option<u64>,
        /// Where --seq writes the entry (`-`: standard output).
        #[arg(long, requires = "seq")]
        out: Option<PathBuf>,
        /// Replace --out if it exists.
        #[arg(long, requires = "out")]
        force: bool,
    },
    /// Print a signed checkpoint (c2sp.org/tlog-checkpoint) of the ledger's Merkle tree.
    Checkpoint {
        /// A ledger directory, a postgres:// URL or an exported file.
        ledger: PathBuf,
        /// The signing key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// The log origin (default: custody/<name>/<ledger id prefix>); also the key name.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Serve ledgers over HTTP (loopback by default; put a TLS proxy in
    /// front to serve further): reads, and appends of batches signed by
    /// the clients (`custody append http://HOST:PORT/NAME`). Each ledger is
    /// served at /v1/NAME, NAME being its name; the API is in
    /// schemas/openapi.yaml.
    Serve {
        /// Ledger directories or postgres:// URLs.
        #[arg(required = true)]
        ledgers: Vec<PathBuf>,
        /// Address to listen on (port 0: any free port, printed).
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: String,
        /// A key (held to its own mark, as for `checkpoint`) to sign the
        /// checkpoints served at /v1/NAME/checkpoint.
        #[arg(long)]
        checkpoint_key: Option<PathBuf>,
        /// Take OpenLineage RunEvents at POST /api/v1/lineage into the
        /// first ledger, signed by this key (one the ledger's owner granted
        /// the appender role); needs --token-file.
        #[arg(long, requires = "token_file")]
        ingest_key: Option<PathBuf>,
        /// A file holding the bearer token OpenLineage clients must send.
        #[arg(long, requires = "ingest_key")]
        token_file: Option<PathBuf>,
        /// Seconds a client has to send a request's body (the work on it
        /// then takes as long as it takes).
        #[arg(long, default_value_t = 60)]
        body_timeout: u64,
    },
    /// Digests of files and directories, in the forms other tools use: a
    /// file's `sha256:HEX`, a directory's OpenSSF model-signing (OMS)
    /// "files" manifest and root digest (schemas/FORMAT.md, "Digests").
    Digest {
        /// Files or directories.
        #[arg(required_unless_present = "check")]
        paths: Vec<PathBuf>,
        /// `digest` (`sha256:HEX  PATH`, the form an artifact's `digest`
        /// takes), `sha256sum` (a line per file, as `sha256sum -c`
        /// checks), `oms` (model-signing's resources and root, JSON) or
        /// `json` (the manifest: path, size and sha256 of every file).
        #[arg(long, default_value = "digest", value_parser = ["digest", "sha256sum", "oms", "json"])]
        format: String,
        /// Also write the manifest (JSON: path, size, sha256 of every file)
        /// to this file (`-`: standard output).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Hash what symbolic links point to (refused otherwise).
        #[arg(long)]
        follow_symlinks: bool,
        /// Hash `.git`, `.gitattributes`, `.github` and `.gitignore` at the
        /// top of a directory too (left out by default, as model-signing
        /// leaves them out).
        #[arg(long)]
        include_git: bool,
        /// Recompute PATH's digest and compare it with the one the verified
        /// ledger SOURCE records for ARTIFACT_ID: exit 0 the same, 1
        /// different, 2 an error.
        #[arg(long, num_args = 3, value_names = ["ARTIFACT_ID", "SOURCE", "PATH"], conflicts_with = "manifest")]
        check: Option<Vec<String>>,
        /// With --check: the ledger's owner key you expect (64 hex digits
        /// or a .pub file); without it, any well-signed ledger is believed.
        #[arg(long, requires = "check")]
        owner: Option<String>,
    },
    /// Print the public key (64 hex digits) of a private key, such as one
    /// made by `openssl genpkey -algorithm ed25519`.
    Pubkey {
        /// The private key (PKCS#8 PEM).
        key: PathBuf,
    },
    /// Print the verifier key (c2sp.org/signed-note) of a signing key under a name.
    Vkey {
        /// The signing key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// The key name: the checkpoint origin.
        #[arg(long)]
        name: String,
    },
    /// Build inclusion or consistency proofs.
    Prove {
        #[command(subcommand)]
        what: Prove,
    },
    /// Check offline that an entry is in a checkpointed ledger.
    VerifyProof {
        /// The c2sp.org/tlog-proof@v1 file.
        proof: PathBuf,
        /// The entry's bytes (`custody log SOURCE --seq N --out FILE`).
        #[arg(long)]
        entry: PathBuf,
        /// The checkpoint signer's verifier key (the key itself or a file holding it).
        #[arg(long)]
        vkey: String,
    },
    /// Verify a ledger and write it as one file to attach to a release.
    Export {
        /// A ledger directory or postgres:// URL (or an exported file, or a
        /// served ledger's http:// URL).
        ledger: PathBuf,
        /// The file to write (`-`: standard output).
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
        /// Write a partial export disclosing only these entries (repeatable):
        /// type:NAME, artifact:ID, component:NAME (everything its openness
        /// rests on), or openness (all twelve components). Genesis, grants,
        /// revocations, and the declaration and hand-overs of every artifact
        /// a disclosed entry names are always disclosed.
        #[arg(long, requires = "key")]
        disclose: Vec<String>,
        /// For a partial export: an owner's key, which signs the checkpoint
        /// and the statement of what is disclosed.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Verify an exported file and create a ledger (directory or postgres:// URL) from it.
    Import {
        /// The exported file.
        file: PathBuf,
        /// The ledger to create (a directory that must not exist, or postgres://USER@HOST:PORT/DB?ledger=NAME).
        ledger: PathBuf,
    },
    /// Verify ledgers and derive each pipeline component's openness level.
    ///
    /// The twelve components (Eiras et al. 2024), on the C scale for code
    /// and the D scale for data and weights:
    ///   code:    pretraining-code, finetuning-code, alignment-code,
    ///            eval-code, safety-eval-code, inference-code
    ///   data:    pretraining-data, sft-data, alignment-data,
    ///            benchmark-data, safety-eval-data
    ///   weights: weights
    ///
    /// C1/D1 not released; D2 paid API only; public: C2-C5 / D3-D5 by the
    /// points of the effective license (`custody licenses` lists them);
    /// `N/A` not part of this pipeline; `?` nothing verifiable says.
    #[command(verbatim_doc_comment)]
    Openness {
        /// Ledger directories, postgres:// URLs, exported files or served
        /// ledgers' http:// URLs.
        #[arg(required = true)]
        sources: Vec<PathBuf>,
        /// The owner key you expect: 64 hex digits or a .pub file.
        #[arg(long)]
        owner: Option<String>,
        /// Print JSON: one object, or an array for several ledgers.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print a Markdown table and legend for a model card.
        #[arg(long)]
        markdown: bool,
    },
    /// What to paste into a Hugging Face model card: YAML metadata
    /// (license, datasets, base model) and a markdown section (the openness
    /// table, why each component is not more open, how to check the
    /// ledger), from the verified ledger only (schemas/CARD.md).
    Card {
        /// The release's ledger (an exported file, directory, postgres:// or
        /// http:// URL); several ledgers add rows to the table.
        #[arg(required = true)]
        sources: Vec<PathBuf>,
        /// The owner key you expect: 64 hex digits or a .pub file.
        #[arg(long)]
        owner: Option<String>,
        /// Write Model Openness Framework YAML (its 17 components, mapped
        /// from the twelve) instead.
        #[arg(long)]
        mof: bool,
        /// Where to write it (`-`, the default: standard output).
        #[arg(long, default_value = "-")]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
    /// in-toto attestations of the verified ledger, each in a DSSE envelope
    /// signed with KEY, written as a bundle (one envelope a line): the
    /// release's openness (schemas/ATTESTATION.md), and with --slsa an SLSA
    /// Provenance v1 statement per transformation and augmentation.
    Attest {
        /// The release's ledger (an exported file, directory, postgres:// or
        /// http:// URL).
        source: PathBuf,
        /// The signing key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the bundle (`-`: standard output).
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
        /// A signed checkpoint of the ledger to carry in the predicate
        /// (checked against --checkpoint-vkey, and to be of this ledger).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The verifier key of the checkpoint's signer (the key itself or a
        /// file holding it); its name is the log's origin.
        #[arg(long)]
        checkpoint_vkey: Option<String>,
        /// Also an SLSA Provenance v1 statement per production whose
        /// outputs have digests.
        #[arg(long)]
        slsa: bool,
        /// The owner key you expect: 64 hex digits or a .pub file.
        #[arg(long)]
        owner: Option<String>,
    },
    /// One self-contained HTML page of verified ledgers (nothing fetched
    /// from anywhere): signers and keys, the openness table coloured by
    /// level with links to the evidence, the lineage as SVG, and each
    /// artifact's custody timeline.
    Report {
        /// Exported files, directories, postgres:// or http:// URLs.
        #[arg(required = true)]
        sources: Vec<PathBuf>,
        /// Where to write the page.
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
        /// The owner key you expect: 64 hex digits or a .pub file.
        #[arg(long)]
        owner: Option<String>,
    },
    /// Manage the PostgreSQL schema custody keeps ledgers in.
    #[command(subcommand)]
    Db(Db),
    /// Print a shell completion script: `custody completions bash >
    /// ~/.local/share/bash-completion/completions/custody`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `custody man > custody.1; man -l custody.1`.
    Man {
        /// A command's own page instead (`custody man verify`).
        command: Option<String>,
    },
    /// Build, verify and export an example ledger for a small model release.
    Demo {
        /// Directory to build it in (must be absent or empty); a new
        /// temporary directory when absent.
        dir: Option<PathBuf>,
    },
    /// Measure append and verify throughput against this machine's bare bounds.
    Bench {
        /// Ledger sizes to measure, comma separated.
        #[arg(long, value_delimiter = ',', default_values_t = [10_000u64, 100_000, 1_000_000])]
        sizes: Vec<u64>,
        /// Scratch directory (default: a temporary one, removed afterwards).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Instead: crafted ledger shapes (a 20,000-step lineage chain, a
        /// 2,000-way fan-in) against an ordinary ledger of the same size.
        #[arg(long, conflicts_with = "sizes")]
        shapes: bool,
        /// Instead: PostgreSQL against sled, and 1, 4 and 8 concurrent
        /// appenders, in the database at this URL (a throwaway one:
        /// `examples/bench-postgres.sh` makes one).
        #[arg(long, value_name = "URL", conflicts_with_all = ["sizes", "shapes"])]
        postgres: Option<String>,
        /// Internal: one measurement, in a process of its own.
        #[arg(long, hide = true, num_args = 4, allow_hyphen_values = true)]
        child: Option<Vec<String>>,
    },
    /// List the license registry, or explain one license: its class, each
    /// right granted or withheld and why, its points and levels.
    Licenses {
        /// The license id to explain, in any case (default: list them all).
        id: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
