#include "telemetry/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

namespace torii::telemetry {

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Prometheus prints floats in Go's shortest form; %.17g round-trips, %g
// would print 1.7e+09 for a start time and lose the seconds.
std::string format_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  std::string s = buf;
  // Shorter where exact: 12.5 rather than 12.500000000000002 noise.
  for (int precision = 1; precision < 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    double back = 0;
    if (std::sscanf(buf, "%lf", &back) == 1 && back == v) return buf;
  }
  return s;
}

void family(std::string& out, const char* name, const char* type, const std::string& value) {
  out += "# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += "{} ";
  out += value;
  out += "\n\n";
}

}  // namespace

void append_process_metrics(std::string& out) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // /proc/self/stat: fields after the parenthesised command name; utime,
  // stime are fields 14 and 15, starttime 22, vsize 23, rss 24 (man 5 proc).
  const std::string stat = read_file("/proc/self/stat");
  const size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f;
    std::string field;
    while (fields >> field) f.push_back(field);
    // f[0] is field 3 (state).
    if (f.size() > 21) {
      // getrusage(), not utime + stime here: those count 10 ms ticks, and a
      // gateway that has just started has often used less than one (the
      // counter read 0 and a test that wanted it above 0 failed).
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
      family(out, "process_cpu_seconds_total", "counter", format_double(cpu));
      // Boot time + start ticks = the start as a Unix time.
      double boot = 0;
      std::istringstream sys(read_file("/proc/stat"));
      std::string line;
      while (std::getline(sys, line)) {
        if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
      }
      if (boot > 0) {
        family(out, "process_start_time_seconds", "gauge", format_double(boot + std::stod(f[19]) / ticks));
      }
      family(out, "process_virtual_memory_bytes", "gauge", f[20]);
      family(out, "process_resident_memory_bytes", "gauge", format_double(std::stod(f[21]) * page));
    }
  }
  size_t fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') ++fds;
    }
    closedir(dir);
    family(out, "process_open_fds", "gauge",
           std::to_string(fds > 0 ? fds - 1 : 0));  // minus the one reading it
  }
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    family(out, "process_max_fds", "gauge", std::to_string(nofile.rlim_cur));
  }
}

}  // namespace torii::telemetry
