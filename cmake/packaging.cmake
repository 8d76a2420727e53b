# Install rules and the Debian package (`cpack -G DEB` in the build dir ->
# torii_<version>_<arch>.deb). scripts/package-check.sh builds, installs and
# checks it in CI. Layout (Debian's):
#   /usr/bin/torii
#   /usr/lib/systemd/system/torii.service      packaging/torii.service
#   /etc/torii/gateway.yaml                    example configuration (conffile)
#   /etc/default/torii                         TORII_OPTS for the unit (conffile)
#   /usr/share/doc/torii/                      README, docs/*.md, examples/httpbin
# The package's Depends come from dpkg-shlibdeps (dpkg-dev, `file`), plus
# adduser for the `torii` system user its postinst creates.
include(GNUInstallDirs)

install(TARGETS torii RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES packaging/torii.service DESTINATION lib/systemd/system)
install(FILES packaging/gateway.yaml DESTINATION /etc/torii)
install(FILES packaging/torii.default DESTINATION /etc/default RENAME torii)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(DIRECTORY examples/httpbin DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples USE_SOURCE_PERMISSIONS)

set(CPACK_PACKAGE_NAME torii)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Torii maintainers <torii@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Istio ingress/egress gateway without Kubernetes, istiod or Envoy")
set(CPACK_PACKAGE_DESCRIPTION
    "Torii reads the Istio manifests you would kubectl apply (Gateway, VirtualService,\n\
DestinationRule, ServiceEntry, ...) and serves traffic the way istio-ingressgateway\n\
does, with configuration changes applied live.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/conffiles ${PROJECT_SOURCE_DIR}/packaging/deb/postinst
    ${PROJECT_SOURCE_DIR}/packaging/deb/prerm ${PROJECT_SOURCE_DIR}/packaging/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
