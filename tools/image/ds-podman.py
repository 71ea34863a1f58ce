#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Run the edgeshiftd DaemonSet's pod with podman, as the manifest says.

  tools/image/ds-podman.py MANIFEST --name NAME --node-name NODE --host-ip IP
                 --configmap-dir DIR [--netns PATH] [--image IMAGE]
                 [--ulimit NAME=SOFT:HARD]...

Prints the `podman run` argument vector as JSON (one array): read from the
manifest's DaemonSet (its only container) and ConfigMap, so a test or an
operator trying the image on a node without Kubernetes runs exactly what
the DaemonSet would: command and args (with $(VAR) expanded as the
kubelet does), env (fieldRef spec.nodeName and status.hostIP from
--node-name and --host-ip), securityContext (privileged, added
capabilities), volume mounts (hostPath with their type and propagation,
the ConfigMap written into --configmap-dir) and the grace period. The pod's
host network is the host's, or --netns PATH (a test node's namespace).
A field this script does not know how to honour is an error, not skipped:
the manifest and what the test runs cannot drift apart silently.
"""
import argparse
import json
import os
import re
import sys

import yaml

# Pod and container fields that change nothing for a single podman
# container on one node (scheduling, the API server, probes the caller
# checks itself, requests that are not limits).
IGNORED_POD = {"dnsPolicy", "automountServiceAccountToken", "tolerations", "hostNetwork",
               "terminationGracePeriodSeconds", "containers", "volumes"}
IGNORED_CONTAINER = {"name", "image", "imagePullPolicy", "command", "args", "env", "ports",
                     "securityContext", "livenessProbe", "readinessProbe", "resources",
                     "volumeMounts"}
PROPAGATION = {None: "rprivate", "None": "rprivate", "HostToContainer": "rslave",
               "Bidirectional": "rshared"}


def fail(msg):
    sys.exit("ds-podman: " + msg)


def documents(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    ds = [d for d in docs if d.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        fail("%s: want exactly one DaemonSet, found %d" % (path, len(ds)))
    return ds[0], {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}


def expand(text, env):
    """$(VAR) as the kubelet expands it; $$(VAR) stays literal."""
    return re.sub(r"\$?\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: m.group(0)[1:] if m.group(0).startswith("$$")
                  else env.get(m.group(1), m.group(0)), text)


def env_vars(c, a):
    env, out = {}, []
    fields = {"spec.nodeName": a.node_name, "status.hostIP": a.host_ip}
    for e in c.get("env", []):
        if "value" in e:
            v = expand(str(e["value"]), env)
        else:
            ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if ref not in fields:
                fail("env %s: valueFrom %s is not supported" % (e["name"], e.get("valueFrom")))
            v = fields[ref]
        env[e["name"]] = v
        out += ["--env", "%s=%s" % (e["name"], v)]
    return env, out


def security(c):
    sc = dict(c.get("securityContext", {}))
    out = []
    if sc.pop("privileged", False):
        out.append("--privileged")
    caps = sc.pop("capabilities", {})
    for cap in caps.pop("add", []):
        out += ["--cap-add", "CAP_" + cap if not cap.startswith("CAP_") else cap]
    if caps or sc:
        fail("securityContext fields not supported: %s" % sorted(list(caps) + list(sc)))
    return out


def hostpath_volume(v, m, a):
    hp = v["hostPath"]
    path, kind = hp["path"], hp.get("type", "")
    # a test's own directory in place of the node's (--host-path): its
    # state must not land in, or read from, the machine's
    if path in a.host_paths:
        a.host_paths_used.add(path)
        path = a.host_paths[path]
    if kind == "DirectoryOrCreate":
        os.makedirs(path, exist_ok=True)
    elif kind == "Directory" and not os.path.isdir(path):
        fail("volume %s: hostPath %s is not a directory (the pod would not start)"
             % (v["name"], path))
    elif kind not in ("", "Directory", "DirectoryOrCreate"):
        fail("volume %s: hostPath type %s not supported" % (v["name"], kind))
    return path


def configmap_volume(v, configmaps, a):
    name = v["configMap"]["name"]
    if name not in configmaps:
        fail("volume %s: ConfigMap %s is not in the manifest" % (v["name"], name))
    os.makedirs(a.configmap_dir, exist_ok=True)
    for key, text in configmaps[name].get("data", {}).items():
        with open(os.path.join(a.configmap_dir, key), "w") as f:
            f.write(text)
    return a.configmap_dir


def mounts(pod, c, configmaps, a):
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    out = []
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"])
        if v is None:
            fail("volumeMount %s names no volume" % m["name"])
        if "hostPath" in v:
            src = hostpath_volume(v, m, a)
        elif "configMap" in v:
            src = configmap_volume(v, configmaps, a)
        else:
            fail("volume %s: only hostPath and configMap are supported" % m["name"])
        opts = ["ro" if m.get("readOnly") else "rw"]
        prop = m.get("mountPropagation")
        if prop not in PROPAGATION:
            fail("volumeMount %s: mountPropagation %s not supported" % (m["name"], prop))
        opts.append(PROPAGATION[prop])
        out += ["--volume", "%s:%s:%s" % (src, m["mountPath"], ",".join(opts))]
    return out


def podman_args(a):
    ds, configmaps = documents(a.manifest)
    pod = ds["spec"]["template"]["spec"]
    unknown = set(pod) - IGNORED_POD
    if unknown:
        fail("pod spec fields not supported: %s" % sorted(unknown))
    if len(pod["containers"]) != 1:
        fail("want one container in the pod")
    c = pod["containers"][0]
    unknown = set(c) - IGNORED_CONTAINER
    if unknown:
        fail("container fields not supported: %s" % sorted(unknown))
    if "limits" in c.get("resources", {}):
        fail("resources.limits not supported")
    if not pod.get("hostNetwork"):
        fail("the agent runs with hostNetwork: true")
    env, env_args = env_vars(c, a)
    out = ["run", "--detach", "--pull", "never", "--name", a.name,
           "--network", "ns:" + a.netns if a.netns else "host"]
    out += ["--stop-timeout", str(pod.get("terminationGracePeriodSeconds", 30))]
    out += security(c) + env_args + mounts(pod, c, configmaps, a)
    unused = set(a.host_paths) - a.host_paths_used
    if unused:
        fail("--host-path names no hostPath the container mounts: %s" % sorted(unused))
    for u in a.ulimit:
        out += ["--ulimit", u]
    if "command" in c:
        out += ["--entrypoint", json.dumps([expand(x, env) for x in c["command"]])]
    out.append(a.image or c["image"])
    out += [expand(str(x), env) for x in c.get("args", [])]
    return out


def main():
    p = argparse.ArgumentParser(description="the DaemonSet's pod as a podman run")
    p.add_argument("manifest")
    p.add_argument("--name", required=True)
    p.add_argument("--node-name", required=True)
    p.add_argument("--host-ip", required=True)
    p.add_argument("--configmap-dir", required=True)
    p.add_argument("--netns")
    p.add_argument("--image")
    p.add_argument("--ulimit", action="append", default=[])
    p.add_argument("--host-path", action="append", default=[], metavar="NODE=HERE",
                   help="mount HERE where the manifest mounts the node's NODE")
    a = p.parse_args()
    a.host_paths, a.host_paths_used = {}, set()
    for hp in a.host_path:
        node, sep, here = hp.partition("=")
        if not sep or not os.path.isabs(node) or not os.path.isabs(here):
            fail("--host-path %s: want NODE=HERE, both absolute" % hp)
        a.host_paths[node] = here
    print(json.dumps(podman_args(a)))


if __name__ == "__main__":
    main()
