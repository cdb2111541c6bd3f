%% The cost of applying a function's configuration at cold start, in a VM
%% started with bootstrap.sh's flags (bench/runtime_config/run.sh): one
%% step, measured once in a fresh VM, as the busy time of every scheduler
%% (normal, dirty CPU and dirty IO: the VM's CPU time for the step, as
%% busy-waiting is off) and as wall time, then halt.
%%
%%   mode "compiled": LambdaRuntime.Bootstrap's path: the packaged
%%     lambda_runtime/config.beam, loaded and evaluated
%%     (LambdaRuntime.AppConfig), then applied;
%%   mode "none": the same path when a package has no configuration (one
%%     file lookup);
%%   mode "reader": what a release does instead: config/runtime.exs read
%%     and evaluated from source with Elixir's Config.Reader.
-module(probe).
-export([main/1]).

main([Mode, Root, RuntimeExs]) ->
    %% What the layer's boot script has loaded before the runtime starts
    %% (LambdaRuntime.Tools.Layer.BootScript's set): the step's cost is what it
    %% adds to a cold start.
    [code:ensure_loaded(M) || M <- boot_modules()],
    erlang:system_flag(scheduler_wall_time, true),
    S0 = erlang:statistics(scheduler_wall_time_all),
    T0 = erlang:monotonic_time(microsecond),
    ok = step(Mode, Root, RuntimeExs),
    T1 = erlang:monotonic_time(microsecond),
    S1 = erlang:statistics(scheduler_wall_time_all),
    Wall = T1 - T0,
    io:format("~s ~.3f ~.3f~n", [Mode, busy_us(S0, S1, Wall) / 1000, Wall / 1000]),
    halt().

step("compiled", Root, _) ->
    Path = list_to_binary(Root ++ "/lambda_runtime/config.beam"),
    {ok, _} = file:read_file_info(Path),
    {ok, Config} = 'Elixir.LambdaRuntime.AppConfig':load(list_to_binary(Root)),
    'Elixir.LambdaRuntime.AppConfig':apply_config(Config);
step("none", Root, _) ->
    {error, enoent} = file:read_file_info(Root ++ "/nothing/config.beam"),
    ok;
step("reader", _, RuntimeExs) ->
    Config = 'Elixir.Config.Reader':'read!'(list_to_binary(RuntimeExs), [{env, prod}]),
    application:set_env(Config, [{persistent, true}]).

boot_modules() ->
    ['Elixir.Access', 'Elixir.Application', 'Elixir.Enum', 'Elixir.GenServer',
     'Elixir.Kernel', 'Elixir.Keyword', 'Elixir.List', 'Elixir.Map', 'Elixir.Process',
     'Elixir.Supervisor', 'Elixir.System', 'Elixir.LambdaRuntime.Bootstrap',
     'Elixir.LambdaRuntime.Config', 'Elixir.LambdaRuntime.Native', unicode, string, io,
     maps, proplists, lists, file, binary].

%% The time every scheduler (normal, dirty CPU, dirty IO) was busy between
%% two samples, in microseconds. The counters' unit is unspecified: the
%% first scheduler's total time over the interval, which is the interval's
%% wall time, converts them.
busy_us(S0, S1, WallUs) ->
    Delta = [{Id, A1 - A0, T1 - T0} || {Id, A1, T1} <- S1, {Id0, A0, T0} <- S0, Id0 =:= Id],
    {_, _, Total1} = lists:keyfind(1, 1, Delta),
    Active = lists:sum([A || {_, A, _} <- Delta]),
    Active * WallUs / max(Total1, 1).
