# cmake -DDIR=<templates dir> -DOUT=<header> -P embed.cmake
#
# Writes OUT, a C header holding every file of DIR (but these .cmake files)
# as a NUL-terminated byte array, and a table of them by file name, for
# `sluice plugin new` (core/cli_plugin_new.c). Bytes in hex, so no file
# content needs escaping and no tool beyond CMake is involved.
file(GLOB files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(arrays "")
set(table "")
set(i 0)
foreach(f ${files})
  if(f MATCHES "\\.cmake$" OR IS_DIRECTORY ${DIR}/${f})
    continue()
  endif()
  file(READ ${DIR}/${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "((0x..,){16})" "\\1\n    " hex "${hex}")
  string(APPEND arrays "/* ${f} */\nstatic const char sl_tpl_${i}[] = {\n    ${hex}0x00};\n\n")
  string(APPEND table "    {\"${f}\", sl_tpl_${i}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT}.tmp
  "/* Generated from core/templates/ by core/templates/embed.cmake: do not edit. */\n"
  "#ifndef SL_PLUGIN_TEMPLATES_H\n#define SL_PLUGIN_TEMPLATES_H\n\n"
  "${arrays}"
  "typedef struct sl_template {\n    const char *file; /* its name in core/templates/ */\n"
  "    const char *text;\n} sl_template;\n\n"
  "static const sl_template sl_templates[] = {\n${table}    {0, 0},\n};\n\n#endif\n")
# Touch the header only when it changed, so an unrelated rebuild stays quiet.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
file(REMOVE ${OUT}.tmp)
