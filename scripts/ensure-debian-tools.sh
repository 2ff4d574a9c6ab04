#!/bin/sh
# Tools the tests drive that only Debian's archive carries here (no browser download, no Go
# module proxy, no Maven Central): Chromium for the browser tests, and protoc with the Go
# and Java gRPC libraries, so that the documented Go and Java clients are really compiled.
# Installs what is missing on first use; needs root, as CI has.
set -e
PACKAGES="chromium protobuf-compiler
  golang-go golang-google-grpc-dev golang-google-protobuf-dev protoc-gen-go protoc-gen-go-grpc
  openjdk-17-jdk-headless libgrpc-java protobuf-compiler-grpc-java-plugin libprotobuf-java
  libnetty-java libperfmark-java libguava-java libgeronimo-annotation-1.3-spec-java"
missing=""
for package in $PACKAGES; do
  dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -z "$missing" ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "the tests need these Debian packages: run 'apt-get install -y$missing' as root" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
