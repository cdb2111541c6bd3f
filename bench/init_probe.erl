%% Where init time goes, in the VM that bootstrap.sh starts: started with
%% `-s init_probe main` instead of the runtime, it times each application
%% start and module group that the runtime's boot goes through, then halts.
%% bench/init_probe.sh runs it with bootstrap.sh's flags and code path.
-module(init_probe).
-export([main/0]).

t() -> erlang:monotonic_time(microsecond).
n() -> length(code:all_loaded()).
ms(A, B) -> (B - A) / 1000.

main() ->
    {Wall0, _} = statistics(wall_clock),
    {Cpu0, _} = statistics(runtime),
    N0 = n(),
    T0 = t(),
    {ok, _} = application:ensure_all_started(elixir),
    T1 = t(), N1 = n(),
    {ok, _} = application:ensure_all_started(logger),
    T2 = t(), N2 = n(),
    {ok, _} = application:ensure_all_started(lambda_runtime),
    T3 = t(), N3 = n(),
    {module, _} = code:ensure_loaded('Elixir.LambdaRuntime.Native'),
    T4 = t(),
    Mods = ['Elixir.LambdaRuntime.Runtime', 'Elixir.LambdaRuntime.Poller',
            'Elixir.LambdaRuntime.Config', 'Elixir.LambdaRuntime.Context',
            'Elixir.LambdaRuntime.HandlerRef', 'Elixir.LambdaRuntime.Invoker',
            'Elixir.LambdaRuntime.Reporter', 'Elixir.LambdaRuntime.Client',
            'Elixir.Logger', 'Elixir.System', 'Elixir.Keyword', 'Elixir.GenServer',
            'Elixir.DynamicSupervisor', 'Elixir.Regex', 'Elixir.Path', 'Elixir.Code'],
    _ = [code:ensure_loaded(M) || M <- Mods],
    T5 = t(), N5 = n(),
    {Cpu1, _} = statistics(runtime),
    io:format("VM boot to -s: wall ~p ms, cpu ~p ms, ~p modules loaded~n", [Wall0, Cpu0, N0]),
    io:format("elixir app ~.1f ms (+~p modules)~n", [ms(T0, T1), N1 - N0]),
    io:format("logger app ~.1f ms (+~p)~n", [ms(T1, T2), N2 - N1]),
    io:format("lambda_runtime app, not started ~.1f ms (+~p)~n", [ms(T2, T3), N3 - N2]),
    io:format("NIF module ~.1f ms~n", [ms(T3, T4)]),
    io:format("runtime modules ~.1f ms (+~p)~n", [ms(T4, T5), N5 - N3]),
    io:format("cpu at the end ~p ms~n", [Cpu1]),
    halt().
