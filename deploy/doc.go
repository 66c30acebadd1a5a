// Package deploy holds no code: its folder has the files that run gatehouse in
// production (systemd/gatehouse.service, kubernetes/*.yaml) and its tests check them
// and the repository's Dockerfile and .dockerignore without docker, systemd or a
// cluster: the Dockerfile with buildkit's own parser and linter, the unit with
// systemd-analyze verify, the manifests decoded strictly into the Kubernetes API types.
// Those libraries are test dependencies only; they never enter the binary
// (cmd/gatehouse's TestReleaseBuild checks that).
package deploy
