from survey.cli import main

main(prog_name="barometre")
