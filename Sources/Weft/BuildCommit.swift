// Stamped by scripts/package.sh for a release build; keep `dev` in git.
let buildCommit = "dev"
