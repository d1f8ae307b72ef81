// The subcommands of `twinflow`, one file each (cli/cmd_*.cc). Each adds its
// CLI11 subcommand to the app; its callback stores the exit code in *exit_code.
#pragma once

namespace CLI {
class App;
}

namespace twinflow {

class AppContext;

void add_run_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_rerun_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_runs_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_show_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_logs_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_cancel_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_artifacts_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_lineage_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_validate_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_db_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_step_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_schedules_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_search_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_extract_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_serve_files_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_models_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_prompts_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_serve_command(CLI::App& app, AppContext& ctx, int* exit_code);
void add_web_command(CLI::App& app, AppContext& ctx, int* exit_code);
// scheduler, trigger, pause, unpause
void add_scheduler_commands(CLI::App& app, AppContext& ctx, int* exit_code);

}  // namespace twinflow
