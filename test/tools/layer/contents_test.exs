defmodule LambdaRuntime.Tools.Layer.ContentsTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer.Contents

  defp out?(app, mod, otp \\ current_otp()),
    do: Contents.not_on_lambda?(app, Path.join(:code.lib_dir(app), "ebin"), mod, otp)

  defp current_otp, do: String.to_integer(Contents.otp_release())

  test "servers, DTLS, distribution and the shell are left out" do
    assert out?(:inets, :httpd_util)
    assert out?(:inets, :mod_esi)
    assert out?(:inets, :tftp_engine)
    assert out?(:ssl, :dtls_connection)
    assert out?(:ssl, :inet_tls_dist)
    assert out?(:kernel, :erl_epmd)
    assert out?(:stdlib, :shell_docs)
    assert out?(:compiler, :core_parse)
  end

  test "what a function uses stays, and so do the supervisors apps start anyway" do
    # Clients and the runtime's own needs.
    # ssl:versions/0 calls dtls_record, the cipher-suite lists dtls_v1.
    for {app, mod} <-
          [
            inets: :httpc,
            inets: :httpc_manager,
            ssl: :tls_connection,
            ssl: :dtls_record,
            ssl: :dtls_v1
          ],
        do: refute(out?(app, mod), "#{mod} must stay")

    # Started by inets_sup and ssl_sup whether or not a server is configured.
    for {app, mod} <- [inets: :httpd_sup, ssl: :dtls_sup, ssl: :dtls_server_sup],
        do: refute(out?(app, mod), "#{mod} is started by its application")

    # Named only, never a prefix of another app's modules.
    refute out?(:stdlib, :c)
    refute out?(:kernel, :net_kernel)
    refute out?(:compiler, :compile)
    refute out?(:elixir, :"Elixir.Code.Formatter")
  end

  test "the line editor and shell stay from OTP 26 on, where -noinput still starts them" do
    assert out?(:stdlib, :edlin, 25) and out?(:stdlib, :shell, 25)
    refute out?(:stdlib, :edlin, 26) or out?(:stdlib, :shell, 27)
    assert out?(:stdlib, :shell_docs, 27)
  end

  test "every module named exists in this OTP, so a rename does not go unnoticed" do
    for {app, modules, why} <- Contents.not_on_lambda(), is_list(modules), mod <- modules do
      assert is_binary(why)
      beam = Path.join([:code.lib_dir(app), "ebin", "#{mod}.beam"])
      assert File.regular?(beam), "#{app}: #{mod} is not in this OTP (#{beam})"
    end
  end
end
