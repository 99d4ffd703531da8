# Plotline's Python kernel: the half of the interpreter that runs inside the
# sandbox. It is embedded in the plotline binary and passed to Python with
# -c; the user never installs it.
#
# Protocol: requests arrive on fd 3 and results leave on fd 4, each a
# 4-byte big-endian length and a JSON object. stdout and stderr (fds 1 and
# 2) are plain data: after a cell, the kernel writes the request's end
# marker to both, so that the host knows it has all of the cell's output.
#
# The kernel's own state lives in the closure of _kernel, not in any
# module: the cells run in a fresh __main__ module of their own, so no
# name they can import or look up reaches the protocol's functions.
import ast
import base64
import builtins
import io
import json
import linecache
import os
import signal
import struct
import sys
import time
import traceback
import types



def _map_mnt_data(real):
    # The weaker sandbox has no mount namespace: the work folder keeps its
    # host path. Paths under /mnt/data given to Python's file functions
    # are mapped onto it, so that the code the model writes works as it
    # would in the full sandbox. Code outside Python (a C library opening
    # a path itself, a subprocess) sees only the real path.
    import functools

    pre, preb, realb = "/mnt/data", b"/mnt/data", os.fsencode(real)

    def fix(p):
        if isinstance(p, str):
            if p == pre or p.startswith(pre + "/"):
                return real + p[len(pre):]
        elif isinstance(p, bytes):
            if p == preb or p.startswith(preb + b"/"):
                return realb + p[len(preb):]
        elif hasattr(p, "__fspath__"):
            q = os.fspath(p)
            r = fix(q)
            return p if r is q else r
        return p

    def wrap(f, n):
        @functools.wraps(f)
        def mapped(*args, **kwargs):
            args = tuple(fix(a) if i < n else a for i, a in enumerate(args))
            for k in ("file", "path", "src", "dst"):
                if k in kwargs:
                    kwargs[k] = fix(kwargs[k])
            return f(*args, **kwargs)

        return mapped

    builtins.open = io.open = wrap(io.open, 1)
    for name in ("stat", "lstat", "listdir", "scandir", "mkdir", "makedirs", "remove", "unlink",
                 "rmdir", "removedirs", "chdir", "access", "utime", "chmod", "truncate",
                 "readlink", "open", "statvfs"):
        if hasattr(os, name):
            setattr(os, name, wrap(getattr(os, name), 1))
    for name in ("rename", "replace", "link", "symlink"):
        setattr(os, name, wrap(getattr(os, name), 2))


def _kernel():
    _work = os.environ.pop("PLOTLINE_WORK_FOLDER", None)
    if _work:
        _map_mnt_data(_work)
    REQ_FD, RES_FD = 3, 4
    MAX_VALUE = 64 * 1024
    MAX_IMAGES = 32

    # Keep the protocol descriptors away from user code's usual reach.
    _req = os.dup(REQ_FD)
    _res = os.dup(RES_FD)
    os.close(REQ_FD)
    os.close(RES_FD)
    for _fd in (_req, _res):
        os.set_inheritable(_fd, False)


    def _read_exact(n):
        buf = bytearray()
        while len(buf) < n:
            chunk = os.read(_req, n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)


    def _recv():
        head = _read_exact(4)
        if head is None:
            return None
        body = _read_exact(struct.unpack(">I", head)[0])
        return None if body is None else json.loads(body)


    def _send(obj):
        data = json.dumps(obj).encode()
        data = struct.pack(">I", len(data)) + data
        while data:
            n = os.write(_res, data)
            data = data[n:]


    _in_cell = False


    def _on_sigint(signum, frame):
        nonlocal _in_cell
        # An interrupt that lands between cells must not kill the kernel.
        if _in_cell:
            raise KeyboardInterrupt


    signal.signal(signal.SIGINT, _on_sigint)

    _warm = {}
    _t0 = time.monotonic()
    # A font list built once outside (see interpreter/fontcache.go) spares
    # matplotlib a scan of the system's fonts at every start.
    _fonts = os.environ.pop("PLOTLINE_FONT_CACHE", None)
    if _fonts:
        try:
            import glob
            import shutil

            _mpl = os.environ.get("MPLCONFIGDIR", "/tmp/matplotlib")
            os.makedirs(_mpl, exist_ok=True)
            for _f in glob.glob(os.path.join(_fonts, "fontlist-*.json")):
                shutil.copy(_f, _mpl)
        except Exception:
            pass
    for _mod in ("numpy", "pandas", "matplotlib"):
        try:
            __import__(_mod)
            _warm[_mod] = sys.modules[_mod].__version__
        except Exception as e:  # reported in the ready message
            _warm[_mod] = "error: %s: %s" % (type(e).__name__, e)
    _plt = None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as _plt
        from matplotlib import font_manager as _fm

        _fm.findfont("DejaVu Sans")  # loads or builds the font cache now
        # Figures are collected after each cell, so show() has nothing to do.
        _plt.show = lambda *args, **kwargs: None
    except Exception:
        _plt = None

    # The cells' namespace is a __main__ module of its own, as in a
    # notebook: pickle and multiprocessing find what a cell defined there.
    _main = types.ModuleType("__main__")
    _main.__builtins__ = builtins
    sys.modules["__main__"] = _main
    _ns = _main.__dict__
    _cell_no = 0


    def _cell_frames(tb):
        # Drop the kernel's own frames from the front of a traceback.
        while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell"):
            tb = tb.tb_next
        return tb


    def _format_error(e):
        tb = _cell_frames(e.__traceback__)
        lines = traceback.format_exception(type(e), e, tb)
        return {
            "name": type(e).__name__,
            "message": str(e),
            "traceback": "".join(lines),
        }


    def _figures():
        if _plt is None or "matplotlib.pyplot" not in sys.modules:
            return []
        out = []
        try:
            for num in _plt.get_fignums()[:MAX_IMAGES]:
                buf = io.BytesIO()
                _plt.figure(num).savefig(buf, format="png")
                out.append(base64.b64encode(buf.getvalue()).decode())
        finally:
            _plt.close("all")
        return out


    def _run(code):
        nonlocal _cell_no, _in_cell
        _cell_no += 1
        name = "<cell %d>" % _cell_no
        linecache.cache[name] = (len(code), None, code.splitlines(True), name)
        result = {"value": None, "error": None}
        try:
            tree = ast.parse(code, filename=name, mode="exec")
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            body = compile(tree, name, "exec")
            tail = compile(last, name, "eval") if last is not None else None
            _in_cell = True
            try:
                exec(body, _ns)
                value = eval(tail, _ns) if tail is not None else None
            finally:
                _in_cell = False
            if value is not None:
                _ns["_"] = value
                text = repr(value)
                if len(text) > MAX_VALUE:
                    text = text[:MAX_VALUE] + "\n[value truncated: %d more characters]" % (len(text) - MAX_VALUE)
                result["value"] = text
        except KeyboardInterrupt as e:
            _in_cell = False
            result["error"] = _format_error(e)
        except BaseException as e:  # SystemExit too: the kernel keeps going
            _in_cell = False
            result["error"] = _format_error(e)
        try:
            result["images"] = _figures()
        except Exception as e:
            result["images"] = []
            if result["error"] is None:
                result["error"] = _format_error(e)
        return result


    def _end_marker(marker):
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:
                pass
        for fd in (1, 2):
            try:
                os.write(fd, marker)
            except OSError:
                pass


    _send({"type": "ready", "python": sys.version.split()[0], "modules": _warm,
           "warmup_ms": int((time.monotonic() - _t0) * 1000)})

    def _reap_zombies():
        # Children a cell forked and never waited for stay zombies, each
        # holding a slot of the sandbox's process cap: past a few, they
        # are reaped (those only; a child still running is left alone).
        try:
            # One system call says whether there is any to reap at all.
            if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                return
            with open("/proc/self/task/%d/children" % os.getpid()) as f:
                kids = f.read().split()
        except OSError:
            return
        if len(kids) <= 16:
            return
        for kid in kids:
            try:
                with open("/proc/%s/stat" % kid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                if state == "Z":
                    os.waitpid(int(kid), os.WNOHANG)
            except (OSError, IndexError):
                pass

    while True:
        req = _recv()
        if req is None:
            break
        # The host has ended what the last cell left running: reap those
        # children now, before this cell needs their slots.
        _reap_zombies()
        res = _run(req["code"])
        _end_marker(req["marker"].encode())
        res["type"] = "result"
        res["id"] = req["id"]
        _send(res)


_kernel()
