#!/usr/bin/env python3
"""Writes examples/profiles/tests/<profile>.yaml, the `frulec test` files of the per-image profiles.

The *behaviour* is stated here by hand, per image: what a normal container of that image does (processes,
ports, files, peers, syscalls), independently of the profile's lists. Only the rule names are read from the
profile. Each generated file replays the normal behaviour (no alert) and one deviation per rule (alert), plus
near misses: the same deviation in a container of another image and on the host (no alert).

Run it after changing the behaviour below; review the diff of the generated files; `cargo test --test profiles`
runs them. The generated files are committed (they are the tests), this script only saves typing.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (repository[:tag], [(proc, parent, cmdline)], [inbound ports], [reads], [(writer, path)],
#        [(ip, port)], [extra syscalls of the steady state])
IMAGES = {
    "nginx": ("nginx:1.27", [("docker-entrypoint.sh", "containerd-shim", "/docker-entrypoint.sh nginx -g daemon off;"),
                         ("20-envsubst-on-templates.sh", "docker-entrypoint.sh", "/docker-entrypoint.d/20-envsubst-on-templates.sh"),
                         ("nginx", "docker-entrypoint.sh", "nginx -g daemon off;")],
              [80], ["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/default.conf", "/usr/share/nginx/html/index.html",
                     "/etc/ld.so.cache", "/lib/x86_64-linux-gnu/libc.so.6"],
              [("nginx", "/var/log/nginx/access.log"), ("nginx", "/var/cache/nginx/client_temp/0000000001"),
               ("nginx", "/run/nginx.pid")],
              [("10.0.3.12", 8080)], ["epoll_wait", "accept4", "recvfrom", "sendfile", "writev", "close"]),
    "apache": ("httpd:2.4", [("httpd-foreground", "containerd-shim", "/usr/local/bin/httpd-foreground"),
                         ("httpd", "httpd-foreground", "httpd -DFOREGROUND")],
               [80], ["/usr/local/apache2/conf/httpd.conf", "/usr/local/apache2/htdocs/index.html",
                      "/usr/local/apache2/modules/mod_mpm_event.so", "/etc/ld.so.cache"],
               [("httpd", "/usr/local/apache2/logs/httpd.pid"), ("httpd", "/usr/local/apache2/logs/access_log")],
               [("10.0.3.20", 3306)], ["epoll_wait", "accept4", "read", "writev", "close"]),
    "redis": ("redis:7.2", [("docker-entrypoint.sh", "containerd-shim", "docker-entrypoint.sh redis-server"),
                        ("redis-server", "docker-entrypoint.sh", "redis-server *:6379")],
              [6379], ["/usr/local/etc/redis/redis.conf", "/data/dump.rdb", "/etc/ld.so.cache",
                       "/sys/kernel/mm/transparent_hugepage/enabled"],
              [("redis-server", "/data/temp-42.rdb"), ("redis-server", "/data/appendonlydir/appendonly.aof.1.incr.aof")],
              [("10.0.3.30", 6379)], ["epoll_wait", "accept", "read", "write", "close", "fsync"]),
    "mongodb": ("mongo:7.0", [("docker-entrypoint.sh", "containerd-shim", "docker-entrypoint.sh mongod"),
                          ("mongod", "docker-entrypoint.sh", "mongod --bind_ip_all")],
                [27017], ["/data/db/WiredTiger", "/data/db/storage.bson", "/sys/kernel/mm/transparent_hugepage/enabled",
                          "/etc/ld.so.cache", "/proc/self/mountinfo"],
                [("mongod", "/data/db/journal/WiredTigerLog.0000000001"), ("mongod", "/data/db/mongod.lock")],
                [("10.0.3.40", 27017)], ["futex", "accept", "recvmsg", "sendmsg", "pwrite64", "fdatasync"]),
    "postgresql": ("postgres:16", [("docker-entrypoint.sh", "containerd-shim", "docker-entrypoint.sh postgres"),
                               ("postgres", "docker-entrypoint.sh", "postgres")],
                   [5432], ["/var/lib/postgresql/data/postgresql.conf", "/var/lib/postgresql/data/pg_hba.conf",
                            "/usr/share/postgresql/16/timezonesets/Default", "/etc/ld.so.cache"],
                   [("postgres", "/var/lib/postgresql/data/base/5/1259"), ("postgres", "/var/run/postgresql/.s.PGSQL.5432.lock")],
                   [("10.0.3.41", 5432)], ["epoll_wait", "accept", "recvfrom", "sendto", "pwrite64", "fdatasync", "close"]),
    "etcd": ("registry.k8s.io/etcd:3.5.12-0", [("etcd", "containerd-shim", "etcd --data-dir=/var/lib/etcd")],
             [2379, 2380], ["/etc/kubernetes/pki/etcd/server.crt", "/etc/kubernetes/pki/etcd/server.key",
                            "/var/lib/etcd/member/snap/db"],
             [("etcd", "/var/lib/etcd/member/wal/0000000000000000-0000000000000000.wal")],
             [("10.0.3.51", 2380)], ["futex", "epoll_pwait", "accept4", "read", "write", "fdatasync"]),
    "consul": ("hashicorp/consul:1.18", [("docker-entrypoint.sh", "containerd-shim", "docker-entrypoint.sh agent -server"),
                                     ("consul", "docker-entrypoint.sh", "consul agent -server -data-dir=/consul/data")],
               [8500, 8301], ["/consul/config/server.json", "/etc/ssl/certs/ca-certificates.crt"],
               [("consul", "/consul/data/raft/raft.db"), ("consul", "/consul/data/serf/local.snapshot")],
               [("10.0.3.61", 8301), ("10.0.3.61", 8300)], ["futex", "epoll_pwait", "accept4", "read", "write"]),
    "elasticsearch": ("docker.elastic.co/elasticsearch/elasticsearch:8.13.0",
                      [("tini", "containerd-shim", "/bin/tini -- /usr/local/bin/docker-entrypoint.sh"),
                       ("docker-entrypoint.sh", "tini", "/usr/local/bin/docker-entrypoint.sh eswrapper"),
                       ("java", "docker-entrypoint.sh", "/usr/share/elasticsearch/jdk/bin/java -Xms1g")],
                      [9200, 9300], ["/usr/share/elasticsearch/config/elasticsearch.yml",
                                     "/usr/share/elasticsearch/lib/elasticsearch-8.13.0.jar",
                                     "/sys/fs/cgroup/memory.max"],
                      [("java", "/usr/share/elasticsearch/data/_state/manifest-1.st"),
                       ("java", "/usr/share/elasticsearch/logs/gc.log")],
                      [("10.0.3.71", 9300)], ["futex", "epoll_wait", "accept", "read", "write", "mmap"]),
    "fluentd": ("fluent/fluentd:v1.16-1", [("tini", "containerd-shim", "tini -- /bin/entrypoint.sh fluentd"),
                                       ("entrypoint.sh", "tini", "/bin/sh /bin/entrypoint.sh fluentd"),
                                       ("fluentd", "entrypoint.sh", "/usr/bin/ruby /usr/bin/fluentd --config /fluentd/etc/fluent.conf")],
                [24224], ["/fluentd/etc/fluent.conf", "/var/log/containers/web-7d9c_default_nginx-0a1b.log",
                          "/usr/lib/ruby/3.2.0/json.rb"],
                [("fluentd", "/fluentd/buffer/buffer.b5f2.log"), ("fluentd", "/fluentd/log/fluent.log")],
                [("10.0.3.80", 9200)], ["epoll_wait", "accept", "read", "write", "inotify_add_watch"]),
    "haproxy": ("haproxy:2.9", [("docker-entrypoint.sh", "containerd-shim", "docker-entrypoint.sh haproxy -f /usr/local/etc/haproxy/haproxy.cfg"),
                            ("haproxy", "docker-entrypoint.sh", "haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg")],
                [80, 8404], ["/usr/local/etc/haproxy/haproxy.cfg", "/etc/ld.so.cache", "/etc/ssl/certs/ca-certificates.crt"],
                [("haproxy", "/var/run/haproxy.pid")],
                [("10.0.3.90", 8080)], ["epoll_wait", "accept4", "recvfrom", "sendto", "close"]),
    "kube-apiserver": ("registry.k8s.io/kube-apiserver:v1.30.0",
                       [("kube-apiserver", "containerd-shim", "kube-apiserver --advertise-address=10.0.0.10")],
                       [6443], ["/etc/kubernetes/pki/apiserver.crt", "/etc/kubernetes/pki/ca.crt",
                                "/etc/ssl/certs/ca-certificates.crt"],
                       [("kube-apiserver", "/var/log/kubernetes/audit/audit.log")],
                       [("10.0.0.10", 2379), ("10.0.1.5", 10250)], ["futex", "epoll_pwait", "accept4", "read", "write"]),
    "kube-controller-manager": ("registry.k8s.io/kube-controller-manager:v1.30.0",
                                [("kube-controller-manager", "containerd-shim", "kube-controller-manager --kubeconfig=/etc/kubernetes/controller-manager.conf")],
                                [10257], ["/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/pki/ca.crt"],
                                [],
                                [("10.0.0.10", 6443)], ["futex", "epoll_pwait", "read", "write"]),
    "kube-scheduler": ("registry.k8s.io/kube-scheduler:v1.30.0",
                       [("kube-scheduler", "containerd-shim", "kube-scheduler --kubeconfig=/etc/kubernetes/scheduler.conf")],
                       [10259], ["/etc/kubernetes/scheduler.conf"],
                       [],
                       [("10.0.0.10", 6443)], ["futex", "epoll_pwait", "read", "write"]),
    "php-fpm": ("php:8.3-fpm", [("docker-php-entrypoint", "containerd-shim", "/bin/sh /usr/local/bin/docker-php-entrypoint php-fpm"),
                            ("php-fpm", "docker-php-entrypoint", "php-fpm: master process (/usr/local/etc/php-fpm.conf)")],
                [9000], ["/usr/local/etc/php-fpm.conf", "/usr/local/etc/php/conf.d/docker-php-ext-sodium.ini",
                         "/var/www/html/index.php"],
                [("php-fpm", "/tmp/sess_8c1e"), ("php-fpm", "/proc/self/fd/2")],
                [("10.0.3.20", 3306), ("10.0.3.31", 6379)], ["epoll_wait", "accept", "read", "write", "close"]),
    "traefik": ("traefik:v3.0", [("traefik", "containerd-shim", "traefik --providers.kubernetescrd")],
                [80, 443, 8080], ["/etc/traefik/traefik.yml", "/var/run/secrets/kubernetes.io/serviceaccount/token",
                                  "/etc/ssl/certs/ca-certificates.crt"],
                [("traefik", "/data/acme.json")],
                [("10.96.0.1", 443), ("10.0.3.12", 8080)], ["futex", "epoll_pwait", "accept4", "read", "write"]),
}

CID = "4f1e2d3c4b5a"


def rule_names(profile):
    text = open(os.path.join(HERE, "..", profile + ".yaml")).read()
    names = re.findall(r"^- rule: (.+)$", text, re.M)
    by = {}
    for kind, prefix in [("process", "Unexpected process spawned in"), ("inbound", "Unexpected inbound port in"),
                         ("outbound", "Unexpected outbound connection from"), ("write", "Unexpected file write in"),
                         ("read", "Unexpected file read in"), ("syscall", "Unexpected syscall in")]:
        (by[kind],) = [n for n in names if n.startswith(prefix)]
    return by


def flow(d):
    return "{" + ", ".join(f"{k}: {q(v)}" for k, v in d.items()) + "}"


def q(v):
    s = str(v)
    if re.fullmatch(r"[A-Za-z0-9_./-]+", s) and not s[0] in "-":
        return s
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def gen(profile, spec):
    image, procs, ports, reads, writes, peers, syscalls = spec
    repo, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    rules = rule_names(profile)
    main = procs[-1][0]
    out = []
    w = out.append
    w(f"# frulec test file of examples/profiles/{profile}.yaml (generated by gen.py from the behaviour stated there;")
    w("# review changes). Normal behaviour of the image raises nothing; every deviation raises its rule.")
    w("")
    w(f"rules: ../{profile}.yaml")
    w("rule_matching: all")
    w("defaults:")
    w(f"  container.id: {CID}")
    w(f"  container.image.repository: {q(repo)}")
    w(f"  container.image.tag: {q(tag)}")
    w("  evt.rawres: 0")
    w(f"  proc.name: {q(main)}")
    w("  user.name: root")
    w("cases:")
    w("  - name: container metadata arrives (container event)")
    w("    events:")
    w("      - {evt.type: container}")
    w("    expect: []")
    w("")
    w("  - name: normal behaviour")
    w("    events:")
    for name, parent, cmd in procs:
        w(f"      - {flow({'evt.type': 'execve', 'proc.name': name, 'proc.pname': parent, 'proc.cmdline': cmd})}")
    for p in ports:
        for t in ("socket", "bind", "listen"):
            ev = {"evt.type": t}
            if t == "listen":
                ev.update({"fd.typechar": 4, "fd.sip": "0.0.0.0", "fd.sport": p, "fd.name": f"0.0.0.0:{p}"})
            w(f"      - {flow(ev)}")
        w(f"      - {flow({'evt.type': 'accept4' if 'accept4' in syscalls else 'accept', 'fd.typechar': 4, 'fd.sip': '10.0.3.2', 'fd.sport': p, 'fd.cip': '10.0.7.9', 'fd.cport': 51234})}")
    for path in reads:
        w(f"      - {flow({'evt.type': 'openat', 'evt.is_open_read': 'true', 'evt.is_open_write': 'false', 'fd.typechar': 'f', 'fd.name': path})}")
    for writer, path in writes:
        w(f"      - {flow({'evt.type': 'openat', 'evt.is_open_read': 'false', 'evt.is_open_write': 'true', 'fd.typechar': 'f', 'proc.name': writer, 'fd.name': path})}")
    for ip, port in peers:
        w(f"      - {flow({'evt.type': 'connect', 'evt.rawres': -115, 'evt.res': 'EINPROGRESS', 'fd.typechar': 4, 'fd.sip': ip, 'fd.snet': ip, 'fd.sport': port})}")
    for s in syscalls:
        w(f"      - {flow({'evt.type': s})}")
    w("    expect: []")
    w("")
    dev = [
        ("a shell is spawned", {"evt.type": "execve", "proc.name": "sh", "proc.pname": main, "proc.cmdline": "sh -c id"},
         "process", "proc.name=sh"),
        ("a package manager is spawned", {"evt.type": "execve", "proc.name": "apt-get", "proc.pname": "sh",
                                          "proc.cmdline": "apt-get install -y nmap"}, "process", "proc.name=apt-get"),
        ("a listener on an unexpected port", {"evt.type": "listen", "fd.typechar": 4, "fd.sip": "0.0.0.0", "fd.sport": 4444,
                                               "fd.name": "0.0.0.0:4444"}, "inbound", "fd.sport=4444"),
        ("a connection to an unexpected port", {"evt.type": "connect", "fd.typechar": 4, "fd.sip": "10.0.3.99",
                                                 "fd.snet": "10.0.3.99", "fd.sport": 4444}, "outbound", "fd.sport=4444"),
        ("an allowed port on a public network", {"evt.type": "connect", "fd.typechar": 4, "fd.sip": "203.0.113.7",
                                                  "fd.snet": "203.0.113.7", "fd.sport": peers[0][1]}, "outbound",
         "fd.sip=203.0.113.7"),
        ("a write below /etc", {"evt.type": "openat", "evt.is_open_read": "false", "evt.is_open_write": "true",
                                "fd.typechar": "f", "fd.name": "/etc/passwd"}, "write", "file=/etc/passwd"),
        ("a write by a process that is not a writer", {"evt.type": "openat", "evt.is_open_read": "false",
                                                      "evt.is_open_write": "true", "fd.typechar": "f",
                                                      "proc.name": "sh", "fd.name": "/tmp/x"}, "write", "proc.name=sh"),
        ("a read of /etc/shadow", {"evt.type": "openat", "evt.is_open_read": "true", "evt.is_open_write": "false",
                                   "fd.typechar": "f", "fd.name": "/etc/shadow"}, "read", "file=/etc/shadow"),
        ("ptrace", {"evt.type": "ptrace"}, "syscall", "evt.type=ptrace"),
        ("mount", {"evt.type": "mount"}, "syscall", "evt.type=mount"),
    ]
    for title, ev, kind, sub in dev:
        w(f"  - name: \"deviation: {title}\"")
        w("    events:")
        w(f"      - {flow(ev)}")
        w("    expect:")
        w(f"      - {{rule: {q(rules[kind])}, output: {q(sub)}}}")
        w("")
    w("  - name: a shell in a container of another image (near miss)")
    w("    events:")
    w("      - {evt.type: execve, container.image.repository: example.com/other, proc.name: sh, proc.pname: bash}")
    w("    expect: []")
    w("")
    w("  - name: a shell on the host (near miss)")
    w("    events:")
    w("      - {evt.type: execve, container.id: host, proc.name: sh, proc.pname: bash}")
    w("    expect: []")
    w("")
    w("  - name: a container whose metadata is not known yet (near miss)")
    w("    events:")
    w("      - {evt.type: execve, container.image.repository: ~, container.image.tag: ~, proc.name: sh}")
    w("    expect: []")
    with open(os.path.join(HERE, profile + ".yaml"), "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


for name, spec in IMAGES.items():
    gen(name, spec)
