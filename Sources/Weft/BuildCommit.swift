// scripts/release/package.sh stamps the commit into its copy of the sources; the working tree keeps `dev`.
let buildCommit = "dev"
