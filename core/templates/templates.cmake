# The files `sluice plugin new` writes are real files in core/templates/.
#
# 1. They are embedded into the sluice binary at build time: embed.cmake
#    turns them into a generated header (hex byte arrays; CMake only, no xxd)
#    that core/cli_plugin_new.c includes. Nothing is read at run time.
# 2. In a test build they are also expanded (as the scaffolder does, with
#    NAME "demo") and compiled against the headers and libsluice, the plugin
#    with -Wl,-z,defs as the scaffold's Makefile links it, and each kind's
#    CUnit test runs as unit.scaffold_<kind>: an API change that breaks the
#    scaffold fails the build or the tests, not a newcomer.
# Included from the top-level CMakeLists.txt once sluice-cli exists.
set(SL_TPL_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SL_TPL_GEN ${CMAKE_BINARY_DIR}/generated)
set(SL_TPL_HEADER ${SL_TPL_GEN}/sl_plugin_templates.h)
file(GLOB SL_TPL_FILES CONFIGURE_DEPENDS ${SL_TPL_DIR}/*)
list(FILTER SL_TPL_FILES EXCLUDE REGEX "\\.cmake$")

add_custom_command(OUTPUT ${SL_TPL_HEADER}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SL_TPL_GEN}
  COMMAND ${CMAKE_COMMAND} -DDIR=${SL_TPL_DIR} -DOUT=${SL_TPL_HEADER} -P ${SL_TPL_DIR}/embed.cmake
  DEPENDS ${SL_TPL_FILES} ${SL_TPL_DIR}/embed.cmake
  COMMENT "Embedding the plugin scaffold templates (core/templates)"
  VERBATIM)
# One target owns the command, so a parallel build runs it once.
add_custom_target(plugin_templates DEPENDS ${SL_TPL_HEADER})
add_dependencies(sluice-cli plugin_templates)
target_include_directories(sluice-cli PRIVATE ${SL_TPL_GEN})

if(SLUICE_TESTS)
  # Expanded exactly as cli_plugin_new.c expands them (@NAME@, @PLUGIN@, @KIND@).
  set(NAME demo)
  foreach(KIND source enricher sink)
    set(PLUGIN ${KIND}_demo)
    set(dir ${CMAKE_BINARY_DIR}/tests/scaffold/${KIND})
    configure_file(${SL_TPL_DIR}/${KIND}.c ${dir}/${PLUGIN}.c @ONLY)
    configure_file(${SL_TPL_DIR}/test_${KIND}.c ${dir}/test_${NAME}.c @ONLY)
    configure_file(${SL_TPL_DIR}/fake_host.c ${dir}/fake_host.c @ONLY)
    configure_file(${SL_TPL_DIR}/fake_host.h ${dir}/fake_host.h @ONLY)

    add_library(scaffold_${KIND} MODULE ${dir}/${PLUGIN}.c)
    set_target_properties(scaffold_${KIND} PROPERTIES PREFIX "" OUTPUT_NAME ${PLUGIN}
      LIBRARY_OUTPUT_DIRECTORY ${dir} C_VISIBILITY_PRESET hidden)
    target_link_libraries(scaffold_${KIND} PRIVATE libsluice)
    target_link_options(scaffold_${KIND} PRIVATE -Wl,-z,defs)

    add_executable(test_scaffold_${KIND} ${dir}/test_${NAME}.c ${dir}/fake_host.c)
    target_include_directories(test_scaffold_${KIND} PRIVATE ${dir})
    target_link_libraries(test_scaffold_${KIND} PRIVATE libsluice PkgConfig::CUNIT)
    add_test(NAME unit.scaffold_${KIND} COMMAND test_scaffold_${KIND} WORKING_DIRECTORY ${dir})
    set_tests_properties(unit.scaffold_${KIND} PROPERTIES TIMEOUT 60)
  endforeach()
endif()
