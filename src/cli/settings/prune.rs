//! `prune` settings.

use super::*;

/// `prune`, checked.
#[derive(Debug)]
pub struct PruneSettings {
    pub run: Run,
    pub functions: Vec<PruneTarget>,
    pub options: PruneOptions,
}

/// A function to prune, and where it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct PruneTarget {
    pub function: String,
    pub place: Place,
}

/// What `prune` keeps, and how it sends its deletes.
#[derive(Debug, Clone, Copy)]
pub struct PruneOptions {
    pub keep: Keep,
    pub dry_run: bool,
    /// Control-plane requests (listings and deletes) per second at most.
    pub per_second: u32,
}

/// Check `prune`'s flags (and manifest): each function once.
pub fn prune(args: &PruneArgs, log: Log) -> Result<PruneSettings> {
    let functions = match &args.manifest {
        Some(path) => {
            // A function with several aliases is pruned once in each place.
            let mut functions: Vec<PruneTarget> = Vec::new();
            let scf = args.platform.platform == crate::cli::flags::Platform::Scf;
            for f in super::on_platform(manifest::load_at(path, false, args.region.as_deref())?, scf, path)? {
                let function = PruneTarget {
                    function: f.name,
                    place: f.place,
                };
                if !functions.contains(&function) {
                    functions.push(function);
                }
            }
            functions
        }
        None => vec![PruneTarget {
            function: args.function_name.clone().unwrap_or_default(),
            place: Place::default(),
        }],
    };
    let dry_run = args.dry_run.dry_run;
    Ok(PruneSettings {
        run: Run {
            region: args.region.clone(),
            namespace: args.platform.namespace.clone(),
            json: args.common.output == OutputFormat::Json,
            log: log.with(args.common.verbose, dry_run),
            fleet: args.manifest.as_ref().map(|_| Fleet {
                concurrency: 1,
                per_second: args.max_requests_per_second,
                fail_fast: false,
                rollback_on_wave_failure: false,
            }),
            waves: Vec::new(),
        },
        functions,
        options: PruneOptions {
            keep: Keep {
                newest: args.keep,
                younger_than: args.older_than,
            },
            dry_run,
            per_second: args.max_requests_per_second,
        },
    })
}
