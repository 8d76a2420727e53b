// systemd's readiness protocol (sd_notify(3)) without libsystemd: one
// datagram to $NOTIFY_SOCKET. Nothing happens when the variable is unset
// (not started by systemd, or not Type=notify). packaging/torii.service.
#pragma once

#include <string>

namespace torii::cli {

// Sends `state` ("READY=1", "STOPPING=1", "MAINPID=123\nREADY=1", ...).
// Errors are ignored, as sd_notify's callers do.
void sd_notify(const std::string& state);

}  // namespace torii::cli
