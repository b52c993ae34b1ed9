// A real redis-server for a test: started on loopback on a free port, stopped (and waited
// for) by the destructor, so that no process outlives a test that fails.
#ifndef ROOMCAST_TESTS_REDIS_SERVER_HPP
#define ROOMCAST_TESTS_REDIS_SERVER_HPP

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ; // NOLINT: POSIX declares it nowhere

namespace roomcast::test {

class redis_server {
public:
    /// Chooses a free port and, unless `start_now` is false, starts redis-server on it (see
    /// start()). `extra_args` are added to the command line (`--requirepass`, say). The
    /// program is $ROOMCAST_REDIS_SERVER, or /usr/bin/redis-server.
    explicit redis_server(bool start_now = true, std::vector<std::string> extra_args = {})
        : extra_(std::move(extra_args))
        , port_(free_port()) {
        if (start_now)
            start(true);
    }
    ~redis_server() { stop(); }
    redis_server(redis_server const&) = delete;
    redis_server& operator=(redis_server const&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    bool running() const noexcept { return pid_ > 0; }

    /// Starts redis-server on port() and returns once it answers PING; throws
    /// std::runtime_error when it does not within 10 s. The port stays the same (a test may
    /// have pointed a client at it): a redis that fails to bind it is tried again a few times.
    void start() { start(false); }

    /// SIGTERM (Redis closes its clients), then SIGKILL after 5 s; waits for the process.
    void stop() { end(SIGTERM); }
    /// SIGKILL: the connections die with the process, as in a crash.
    void crash() { end(SIGKILL); }
    /// stop(), then start() on the same port.
    void restart() {
        stop();
        start();
    }

private:
    using clock = std::chrono::steady_clock;

    /// A port nothing listens on now: bound to port 0, then released.
    static std::uint16_t free_port() {
        int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw std::runtime_error("socket() failed");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t len = sizeof a;
        bool const ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
        ::close(fd);
        if (!ok)
            throw std::runtime_error("no free port");
        return ntohs(a.sin_port);
    }

    void start(bool may_move) {
        if (running())
            return;
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (spawn_and_wait())
                return;
            // redis exited: the port was taken between free_port() and its bind.
            if (may_move)
                port_ = free_port();
            else
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
    }

    /// True once the new process answers PING; false if it exited first.
    bool spawn_and_wait() {
        char const* env = std::getenv("ROOMCAST_REDIS_SERVER");
        std::string const program = env && *env ? env : "/usr/bin/redis-server";
        std::vector<std::string> args{program, "--port", std::to_string(port_), "--bind",
                                      "127.0.0.1"};
        args.insert(args.end(), {"--save", "", "--appendonly", "no", "--daemonize", "no"});
        args.insert(args.end(), extra_.begin(), extra_.end());
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        // The test's sockets (Asio opens them without CLOEXEC) stay out of redis.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
        pid_t pid = -1;
        int const rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0)
            throw std::runtime_error("cannot run " + program);
        pid_ = pid;

        auto const deadline = clock::now() + std::chrono::seconds(10);
        while (clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            if (answers_ping())
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(5)); // poll, not a wait for
        }
        end(SIGKILL);
        throw std::runtime_error("redis-server did not answer PING on port " +
                                 std::to_string(port_));
    }

    /// Any answer counts (`-NOAUTH` too, with --requirepass).
    bool answers_ping() const {
        int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return false;
        timeval tv{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port_);
        bool ok = false;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
            char const ping[] = "PING\r\n";
            char answer[64];
            ok = ::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == sizeof ping - 1 &&
                 ::recv(fd, answer, sizeof answer, 0) > 0 && (answer[0] == '+' || answer[0] == '-');
        }
        ::close(fd);
        return ok;
    }

    void end(int sig) {
        if (pid_ <= 0)
            return;
        ::kill(pid_, sig);
        auto const deadline = clock::now() + std::chrono::seconds(5);
        int status = 0;
        while (clock::now() < deadline) {
            pid_t const r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_ || (r < 0 && errno != EINTR)) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

    std::vector<std::string> extra_;
    std::uint16_t port_;
    pid_t pid_ = -1;
};

} // namespace roomcast::test

#endif
