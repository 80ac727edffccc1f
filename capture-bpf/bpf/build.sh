#!/bin/sh
# Builds frule.bpf.o from frule.bpf.c reproducibly.
#
# Usage: bpf/build.sh [OUTPUT]   (default: bpf/frule.bpf.o next to this script)
# Environment: CLANG (default clang), LLVM_STRIP (default llvm-strip).
#
# The object must not depend on where the checkout lives or on the host's
# headers: paths are mapped with -ffile-prefix-map, debug info (which holds
# paths) is stripped with `llvm-strip -g` while .BTF/.BTF.ext (needed for
# CO-RE) are kept, and the only headers used are bpf/vmlinux.h (committed) and
# libbpf's bpf_*.h (Debian libbpf-dev). The committed object was built on Debian 12 with
# clang 14.0.6, llvm-strip 14 and libbpf-dev 1.1.2 (apt-get install clang llvm libbpf-dev);
# another clang major version or libbpf header version gives a different object.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
crate=$(dirname "$here")
out=${1:-$here/frule.bpf.o}
clang=${CLANG:-clang}
strip=${LLVM_STRIP:-llvm-strip}
tmp="$out.tmp.$$"
cd "$crate"
"$clang" -O2 -g -target bpf -D__TARGET_ARCH_x86 \
	-ffile-prefix-map="$crate"=. -fdebug-prefix-map="$crate"=. \
	-fno-ident \
	-Wall -Wno-unused-function -Werror \
	-I bpf \
	-c bpf/frule.bpf.c -o "$tmp"
"$strip" -g "$tmp"
mv "$tmp" "$out"
# Record what the committed object was built from (checked by build.rs).
if [ "$out" = "$here/frule.bpf.o" ]; then
	(cd "$here" && sha256sum frule.bpf.c ppm_sc_table.h ia32_table.h vmlinux.h build.sh > frule.bpf.o.inputs)
fi
