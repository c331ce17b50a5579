//! `scripts/demo`, the README's first command, as a newcomer runs it: the
//! whole story told by lambda-rollout itself, readable in a CI log.

use crate::common::*;

#[test]
fn the_demo_tells_the_whole_story_in_plain_text() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut demo = clean_command(root.join("scripts/demo"), None);
    demo.env("LAMBDA_ROLLOUT_BIN", env!("CARGO_BIN_EXE_lambda-rollout"));
    let result = run(&mut demo);
    assert_eq!(result.status, 0, "{}\n{}", result.stdout, result.stderr);
    let log = format!("{}{}", result.stdout, result.stderr);
    assert!(
        !log.contains('\u{1b}'),
        "escape codes in a log that is not a terminal:\n{log}"
    );
    assert!(
        !log.contains("demo-token-never-printed"),
        "an environment value in the log:\n{log}"
    );
    // Each step, in lambda-rollout's own words (not a helper script's).
    for said in [
        "$ lambda-rollout deploy --function-name hello --alias live",
        "new code uploaded and published as version 1 at 100%",
        "unchanged, version 1 already serves this code at 100%",
        "new code would be uploaded and published as a new version at 10%",
        "new code uploaded and published as version 2 at 10%",
        "hello:live serves 1 (90%) + 2 (10%)",
        "version 2 promoted to 100% (was version 1)",
        "rolled back, version 1 serves 100%",
        "hello:live serves 1 (100%)",
        "configuration: MemorySize (128 → 256), Environment.Variables (added API_TOKEN, GREETING)",
        "hello:live: new code and configuration published as version 3 at 20%; version 1 keeps 80%",
        "environment  API_TOKEN, GREETING",
    ] {
        assert!(log.contains(said), "the demo does not show '{said}':\n{log}");
    }
}
