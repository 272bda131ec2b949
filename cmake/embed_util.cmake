# Shared by the embedding scripts (embed_migrations.cmake, embed_web.cmake), which turn files into
# raw string literals of a generated C++ source.

# Fails if `text` (read from `file`) contains the raw string's closing sequence `)<delim>"`: such
# a file would be cut short, so it is refused.
function(embed_require_no_delimiter text delim file)
  string(FIND "${text}" ")${delim}\"" found)
  if(NOT found EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string delimiter )${delim}\"")
  endif()
endfunction()

# Writes `content` to `output` only when it changed, so an unchanged input set does not trigger a
# rebuild.
function(embed_write_if_changed output content)
  set(old "")
  if(EXISTS "${output}")
    file(READ "${output}" old)
  endif()
  if(NOT old STREQUAL content)
    file(WRITE "${output}" "${content}")
  endif()
endfunction()
