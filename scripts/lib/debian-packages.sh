# Shell functions shared by the scripts that check files against Debian package lists
# (check-runtime-libs, check-build-deps). Source it; it defines functions only.

# listed_packages LIST: the package names of a list file (one a line, '#' comments).
listed_packages() {
  grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$1" | sed 's/[[:space:]].*//'
}

# unknown_packages PKG...: the names apt does not know (one apt-cache call for all: each call
# loads apt's cache, seconds on a busy machine).
unknown_packages() {
  local -A known=()
  local pkg
  while read -r pkg; do known["$pkg"]=1; done < <(apt-cache show --no-all-versions "$@" 2>/dev/null | sed -n 's/^Package: //p')
  for pkg in "$@"; do [[ -n "${known[$pkg]:-}" ]] || echo "$pkg"; done
}

# package_closure PKG...: what apt installs for the packages: them and everything they depend
# on (Depends and PreDepends; recommendations are off in install-deps), one name a line.
package_closure() {
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$@" 2>/dev/null | sed -n 's/^\([a-z0-9][^ :<>]*\).*/\1/p' | sort -u
}

# file_owners: reads absolute paths on stdin, one a line, and prints "PATH<TAB>PACKAGE" for
# each that a package owns, "PATH<TAB>" for the others. dpkg records /lib paths and /usr/lib
# ones as installed while a tool may print either (usrmerge), and a path may be a symlink the
# alternatives system made; so both spellings of the path and of its resolved target are asked
# about, in one dpkg -S call (a call per file takes minutes with libtorch's thousands of headers).
file_owners() {
  local -a paths reals
  mapfile -t paths < <(sort -u)
  [[ ${#paths[@]} -gt 0 ]] || return 0
  mapfile -t reals < <(realpath -m -- "${paths[@]}")
  local -A owner_of=()
  local line pkg
  while IFS= read -r line; do
    pkg="${line%%: *}"
    pkg="${pkg%%, *}"
    owner_of["${line#*: }"]="${pkg%%:*}"  # pkg:arch -> pkg
  done < <(for p in "${paths[@]}" "${reals[@]}"; do echo "$p"; echo "${p#/usr}"; echo "/usr${p#/usr}"; done \
             | sort -u | xargs -d '\n' dpkg -S 2>/dev/null | grep -v '^diversion by' || true)
  local i candidate found
  for i in "${!paths[@]}"; do
    found=""
    for candidate in "${paths[$i]}" "${paths[$i]#/usr}" "/usr${paths[$i]#/usr}" \
                     "${reals[$i]}" "${reals[$i]#/usr}" "/usr${reals[$i]#/usr}"; do
      if [[ -n "${owner_of[$candidate]:-}" ]]; then found="${owner_of[$candidate]}"; break; fi
    done
    printf '%s\t%s\n' "${paths[$i]}" "$found"
  done
}
