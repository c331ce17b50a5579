//! The release's code before any request: every target's package built
//! or read (the zip limit checked), an image's digest resolved.

use super::*;

/// Build or read the zip; refuse what the platform would refuse
/// ([`Release::check_zip`]). `log`: narrate it (one function; a manifest
/// run does not).
pub(super) fn package_checked<C: Release>(
    code: &manifest::Code,
    excludes: &[String],
    s3: bool,
    log: Option<&Log>,
) -> Result<Package> {
    let package = match code {
        manifest::Code::Source(dir) => package::build(dir, excludes)?,
        manifest::Code::Zip(zip) => package::load_zip(zip)?,
        manifest::Code::Image(_) => return Err(Error::usage("a container image is not packaged")),
    };
    let package = C::identify(package);
    if let Some(log) = log {
        log.step(&format!(
            "package: {}, {} zipped, {} {}",
            plural(package.files, "file"),
            package::human_bytes(package.zip.len() as u64),
            C::IDENTITY,
            package.code_sha256
        ));
    }
    C::check_zip(&package, s3)?;
    Ok(package)
}

/// The job's code: an image resolved to its digest through ECR, or the
/// package built off the thread that drives the requests (CPU work).
pub(super) async fn code_of<C: Release>(conn: &C, job: &DeployJob) -> Result<Code> {
    if let manifest::Code::Image(image) = &job.code {
        return conn.image_code(image).await;
    }
    let (code, excludes, s3) = (job.code.clone(), job.excludes.clone(), job.request.s3.is_some());
    let package = tokio::task::spawn_blocking(move || package_checked::<C>(&code, &excludes, s3, None))
        .await
        .map_err(|e| Error::failed(format!("packaging stopped: {e}")))??;
    Ok(Code::Zip(package))
}

/// The packages a manifest run has built, by what they were built from.
#[derive(Default)]
pub(super) struct Packaged {
    pub(super) built: std::sync::Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Result<Package>>>>>,
}

impl Packaged {
    /// Every target's package, built (once per source or zip) before the
    /// first request of a manifest run: a source with a link out of its
    /// tree, a corrupt zip or one too large without a bucket stops the run
    /// (exit 2) naming every target that ships it, before anything is
    /// written anywhere.
    pub(super) fn build_all<C: Release>(&self, jobs: &[DeployJob], log: &Log) -> Result<()> {
        let mut problems = Vec::new();
        for job in jobs
            .iter()
            .filter(|j| !matches!(j.code, manifest::Code::Image(_)))
        {
            let key = Self::key(job);
            let known = self
                .built
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .cloned();
            let built = match known {
                Some(cell) => cell
                    .get()
                    .cloned()
                    .unwrap_or_else(|| Err(Error::failed("not built"))),
                None => {
                    let built =
                        package_checked::<C>(&job.code, &job.excludes, job.request.s3.is_some(), None);
                    if let Ok(package) = &built {
                        narrate_shared(job, package, C::IDENTITY, log);
                    }
                    let cell = Arc::new(tokio::sync::OnceCell::new_with(Some(built.clone())));
                    self.built
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(key, cell);
                    built
                }
            };
            if let Err(err) = built {
                problems.push(format!(
                    "{}:{} in {}: {err}",
                    job.request.function, job.request.alias, job.place
                ));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::usage(format!(
            "preflight found {} problem{} before any write, so nothing was written anywhere:\n  - {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  - ")
        )))
    }

    /// The identity of the job's package, once built (zips only).
    pub(super) fn identity(&self, job: &DeployJob) -> Option<String> {
        let built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        let cell = built.get(&Self::key(job))?;
        cell.get()?.as_ref().ok().map(|p| p.code_sha256.clone())
    }

    pub(super) fn key(job: &DeployJob) -> String {
        format!("{:?}|{:?}|{}", job.code, job.excludes, job.request.s3.is_some())
    }

    /// The job's code, packaged once for every job that names the same
    /// source or zip with the same excludes (images are resolved per region).
    pub(super) async fn code_of<C: Release>(&self, conn: &C, job: &DeployJob, log: &Log) -> Result<Code> {
        if matches!(job.code, manifest::Code::Image(_)) {
            return code_of(conn, job).await;
        }
        let key = Self::key(job);
        let cell = Arc::clone(
            self.built
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .entry(key)
                .or_default(),
        );
        let package = cell
            .get_or_init(|| async {
                match code_of(conn, job).await {
                    Ok(Code::Zip(package)) => {
                        narrate_shared(job, &package, C::IDENTITY, log);
                        Ok(package)
                    }
                    Ok(Code::Image { .. }) => Err(Error::failed("an image is not packaged")),
                    Err(err) => Err(err),
                }
            })
            .await;
        package.clone().map(Code::Zip)
    }
}

/// The package a manifest's targets share, built.
pub(super) fn narrate_shared(job: &DeployJob, package: &Package, identity: &str, log: &Log) {
    log.step(&format!(
        "package {}: {}, {} zipped, {identity} {} (once, for every target that ships it)",
        job.code,
        plural(package.files, "file"),
        package::human_bytes(package.zip.len() as u64),
        package.code_sha256
    ));
}

/// An image release: the image as ECR names it now, by digest.
pub async fn image_code(clients: &Clients, image: &ImageRef) -> Result<Code> {
    let digest = clients.ecr.digest(image).await?;
    Ok(Code::Image {
        uri: image.by_digest(&digest),
        digest: digest.trim_start_matches("sha256:").to_string(),
    })
}
