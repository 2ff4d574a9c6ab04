#!/bin/sh
# Tools the tests drive that only Debian's archive carries here (no browser download, no Go
# module proxy, no Maven Central): Chromium for the browser tests, and protoc with the Go
# and Java gRPC libraries, so that the documented Go and Java clients are really compiled.
# The Java 17 JDK also runs Spark for the bulk scoring tests (tests/e2e/test_bulk_engines.py).
# prometheus brings promtool, which checks and unit-tests the alerts (tests/unit/test_monitoring.py).
# Installs what is missing on first use; needs root, as CI has.
#
# golang-github-golang-protobuf-1-5-dev is named, not left to golang-google-grpc-dev's
# "1-3-dev | 1-5-dev": on a clean machine apt picks 1-3, whose runtime panics
# (makeOneOfMarshaler) on code from today's protoc-gen-go. The two conflict, so naming 1-5
# also replaces a 1-3 that is already there.
set -e
PACKAGES="chromium protobuf-compiler
  golang-go golang-github-golang-protobuf-1-5-dev golang-google-grpc-dev golang-google-protobuf-dev
  protoc-gen-go protoc-gen-go-grpc
  openjdk-17-jdk-headless libgrpc-java protobuf-compiler-grpc-java-plugin libprotobuf-java
  libnetty-java libperfmark-java libguava-java libgeronimo-annotation-1.3-spec-java
  prometheus"
installed() {
  dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q "install ok installed"
}
missing=""
for package in $PACKAGES; do
  installed "$package" || missing="$missing $package"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "the tests need these Debian packages: run 'apt-get install -y$missing' as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Whatever put it there, the Go client must not build against the 1.3 runtime: say so
# loudly here rather than as a nil-pointer panic deep inside a test.
if installed golang-github-golang-protobuf-1-3-dev; then
  echo "golang-github-golang-protobuf-1-3-dev is installed: Go would build the documented" >&2
  echo "client against protobuf 1.3, which panics on today's generated code." >&2
  echo "Run: apt-get install -y golang-github-golang-protobuf-1-5-dev (it replaces 1-3)" >&2
  exit 1
fi
