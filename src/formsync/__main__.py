from formsync.cli import main

main()
