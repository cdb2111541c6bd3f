"""The rows a bench/run.sh run can have: their order in the report and what
each one runs (the report's legend)."""

QUOTA = "@0.3cpu"
VARIANTS = ["jit", "emu", "host", "otp27", "otp27jit"]
LAYERS = [f"layer_{v}" for v in VARIANTS]
LAYERS_HEAVY = [f"layer_{v}_heavy" for v in VARIANTS]
WARM = (["lambda_runtime", "lambda_runtime_busywait", "lambda_runtime_acul_default", "lambda_runtime_zflags"]
        + LAYERS + ["rust_lambda_runtime", "lambda_runtime_via_proxy", "rust_via_proxy", "awslambdaric",
                    "httpc_loop", "mini_one_write", "mini_two_writes"] + LAYERS_HEAVY
        + [r + QUOTA for r in ["lambda_runtime"] + LAYERS + ["rust_lambda_runtime", "awslambdaric", "httpc_loop"]
           + LAYERS_HEAVY])
INIT = (["lambda_runtime"] + LAYERS + LAYERS_HEAVY + ["rust_lambda_runtime", "awslambdaric", "httpc_loop",
                                                      "erl_bare", "erl_flags"]
        + [r + QUOTA for r in LAYERS + LAYERS_HEAVY + ["erl_bare"]])
WHAT = {
    "lambda_runtime": "this runtime: bootstrap.sh + Echo.handle",
    "layer_jit": "the portable layer, JIT (`mix lambda.layer --flavor jit`, ERTS built with zig): "
                 "its `bootstrap` + echo's function package, Echo.handle",
    "layer_emu": "the portable layer, interpreter (`mix lambda.layer --flavor emu`, ERTS built with zig): "
                 "its `bootstrap`, Echo.handle",
    "layer_host": "the Debian-built layer (`mix lambda.layer --erts host --force --glibc <host's>`: Debian's "
                  "ERTS, JIT, and a shlib/ of host libraries): its `bootstrap`, Echo.handle",
    "layer_jit_heavy": "layer_jit with Heavy.handle (~100 KB event, every record transformed in Elixir)",
    "layer_emu_heavy": "layer_emu with Heavy.handle",
    "layer_host_heavy": "layer_host with Heavy.handle",
    "layer_otp27": "the portable layer of OTP 27, interpreter (`mix lambda.layer --flavor emu` in the Debian 13 "
                   "root: Elixir 1.18, OTP 27): its `bootstrap` + echo's function package compiled there, Echo.handle",
    "layer_otp27jit": "the same, JIT (`--flavor jit`), Echo.handle",
    "layer_otp27_heavy": "layer_otp27 with Heavy.handle (response checked against the one computed on OTP 27)",
    "layer_otp27jit_heavy": "layer_otp27jit with Heavy.handle",
    "lambda_runtime_busywait": "this runtime with ERL_ZFLAGS='+sbwt short +sbwtdcpu short +sbwtdio short'",
    "lambda_runtime_zflags": "this runtime with ERL_ZFLAGS=$BENCH_ERL_ZFLAGS (a variant under study)",
    "lambda_runtime_acul_default": "this runtime with ERL_ZFLAGS='+Muacul de' (the VM's default carrier abandoning)",
    "rust_lambda_runtime": "Rust `lambda_runtime` crate, echo",
    "rust_via_proxy": "the same Rust echo behind the Content-Type proxy",
    "lambda_runtime_via_proxy": "this runtime behind the proxy (which sends head and body in one write)",
    "awslambdaric": "Python awslambdaric, echo (behind the proxy)",
    "httpc_loop": "seed-style Elixir loop: :httpc + :jiffy (`elixir` script)",
    "mini_one_write": "bench/tools miniruntime: std-only echo loop, POST head+body in one write",
    "mini_two_writes": "the same, head and body in two writes (as ureq sends them)",
    "erl_bare": "`erl -noshell -eval 'halt().'` (exec to exit)",
    "erl_flags": "erlexec with bootstrap.sh's flags, `halt()` (exec to exit)",
}

